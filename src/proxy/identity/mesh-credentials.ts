// MeshCredentials: the sidecar's current workload certificate as TLS contexts for mutual TLS
// (Istio's SDS `default` + `ROOTCA`). One client and one server SecureContext per certificate,
// built when it arrives: a rotated certificate is used by new connections, while connections
// already open (pooled upstream ones included) keep the context they were made with.
import type { PeerCertificate, SecureContext, TLSSocket } from "node:tls";
import type { ActiveCertificate } from "./workload-certificate.ts";
import { tlsModule } from "../../core/builtins.ts";

export interface MeshTlsOptions {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly minVersion: "TLSv1.2";
}

export class MeshCredentials {
  #current: ActiveCertificate | null = null;
  #context: SecureContext | null = null;
  #options: MeshTlsOptions | null = null;
  /** The CA's deny list as last pushed: serials (bare lower-case hex) and SPIFFE ids. */
  #deniedSerials = new Set<string>();
  #deniedIdentities = new Set<string>();
  /** Open mTLS connections to upstream peers, to close when a deny list names their server. */
  readonly #upstreams = new Set<TLSSocket>();

  /**
   * The pushed deny list (ProxyConfig.revocations). Applies on the client side too: a server
   * certificate it names fails the handshake, and open upstream connections it authenticated are
   * closed (returns how many).
   */
  setDenyList(revocations: { serials: readonly string[]; identities: readonly string[] } | undefined): number {
    this.#deniedSerials = new Set((revocations?.serials ?? []).map(normalSerial));
    this.#deniedIdentities = new Set(revocations?.identities ?? []);
    if (this.#deniedSerials.size === 0 && this.#deniedIdentities.size === 0) return 0;
    let closed = 0;
    for (const s of this.#upstreams) {
      const cert = s.getPeerCertificate();
      if (cert !== null && typeof cert === "object" && cert.raw !== undefined && this.deniedReason(cert) !== null) {
        s.destroy();
        closed++;
      }
    }
    return closed;
  }

  /** Why a peer certificate is on the deny list (serial or identity); null when it is not. */
  deniedReason(cert: PeerCertificate): string | null {
    if (this.#deniedSerials.size > 0 && cert.serialNumber && this.#deniedSerials.has(normalSerial(cert.serialNumber))) return `serial ${normalSerial(cert.serialNumber)} is revoked`;
    if (this.#deniedIdentities.size > 0) {
      for (const part of (cert.subjectaltname ?? "").split(", ")) {
        if (part.startsWith("URI:") && this.#deniedIdentities.has(part.slice(4))) return `identity ${part.slice(4)} is revoked`;
      }
    }
    return null;
  }

  /** Keep an upstream mTLS connection until it closes (see setDenyList). */
  trackUpstream(socket: TLSSocket): void {
    this.#upstreams.add(socket);
    socket.once("close", () => this.#upstreams.delete(socket));
  }

  /** The trust bundle the control plane pushes (ProxyConfig.trustBundle); null: the certificate's. */
  #pushedBundle: string[] | null = null;

  /**
   * Install a newly issued certificate (WorkloadCertificate's onIssued). Listeners see a new
   * `current` object and take the new material for new connections.
   */
  set(cert: ActiveCertificate): void {
    const bundle = this.#pushedBundle ?? cert.trustBundle;
    this.#options = { cert: cert.certChain.join(""), key: cert.keyPem, ca: bundle.join(""), minVersion: "TLSv1.2" };
    this.#context = tlsModule().createSecureContext(this.#options);
    this.#current = { ...cert, trustBundle: [...bundle] };
  }

  /**
   * The pushed trust bundle (a root rotation: old + new root, then the new one alone). New
   * handshakes, both ways, verify against it; absent, the one that came with the certificate.
   */
  setTrustBundle(pems: readonly string[] | undefined): void {
    const next = pems === undefined || pems.length === 0 ? null : [...pems];
    if ((next?.join("") ?? null) === (this.#pushedBundle?.join("") ?? null)) return;
    this.#pushedBundle = next;
    if (this.#current !== null) this.set(this.#current);
  }

  /** The roots trusted now (PEM), for the proxy's own calls to the control plane. */
  get trustBundle(): string | undefined {
    return this.#options?.ca;
  }

  /** The same material as options (a tls.Server's setSecureContext); null before the first certificate. */
  get options(): MeshTlsOptions | null {
    return this.#options;
  }

  get current(): ActiveCertificate | null {
    return this.#current;
  }

  /** Own SPIFFE id, once a certificate is in place. */
  get identity(): string | undefined {
    return this.#current?.identity;
  }

  /** The context for mutual TLS (client and server side share it: same chain, key and roots); null before the first certificate. */
  get context(): SecureContext | null {
    return this.#context;
  }
}

/** Lower-case hex serial without separators, as ProxyConfig.revocations lists them. */
export function normalSerial(serial: string): string {
  return serial.replace(/:/g, "").toLowerCase().replace(/^0+(?=.)/, "");
}
