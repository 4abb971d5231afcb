// MeshCredentials: the sidecar's current workload certificate as TLS contexts for mutual TLS
// (Istio's SDS `default` + `ROOTCA`). One client and one server SecureContext per certificate,
// built when it arrives: a rotated certificate is used by new connections, while connections
// already open (pooled upstream ones included) keep the context they were made with.
import type { SecureContext, TLSSocket } from "node:tls";
import type { ActiveCertificate } from "./workload-certificate.ts";
import { keptServerPeer, serverPeerOf, type ServerPeer } from "../tls/server-peer.ts";
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
   * TLS sessions of upstream mTLS connections, to resume (Envoy's client session reuse): keyed by
   * endpoint, SNI, ALPN and the SANs checked. A resumed handshake skips the server checks
   * (chain, SANs, deny list), so the cache only holds sessions of connections that passed them,
   * against the current certificate, roots and deny list: any change of those empties it
   * (#generation). Each keeps the server certificate's fields the check saw (a resumed connection
   * has the same server certificate).
   */
  readonly #sessions = new Map<string, KeptSession>();
  #generation = 0;

  /**
   * The pushed deny list (ProxyConfig.revocations). Applies on the client side too: a server
   * certificate it names fails the handshake, and open upstream connections it authenticated are
   * closed (returns how many).
   */
  setDenyList(revocations: { serials: readonly string[]; identities: readonly string[] } | undefined): number {
    const serials = new Set((revocations?.serials ?? []).map(normalSerial));
    const identities = new Set(revocations?.identities ?? []);
    if (!sameSet(serials, this.#deniedSerials) || !sameSet(identities, this.#deniedIdentities)) this.#forgetSessions();
    this.#deniedSerials = serials;
    this.#deniedIdentities = identities;
    if (this.#deniedSerials.size === 0 && this.#deniedIdentities.size === 0) return 0;
    let closed = 0;
    for (const s of this.#upstreams) {
      if (!s.authorized) continue;
      const peer = keptServerPeer(s) ?? peerOfSocket(s);
      if (peer !== undefined && this.deniedReason(peer) !== null) {
        s.destroy();
        closed++;
      }
    }
    return closed;
  }

  /** Why a peer certificate is on the deny list (serial or identity); null when it is not. */
  deniedReason(cert: { readonly serialNumber?: string; readonly subjectaltname?: string }): string | null {
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
    this.#forgetSessions();
  }

  /** A session to resume toward `key` (see #sessions), if one is kept. */
  sessionFor(key: string): KeptSession | undefined {
    return this.#sessions.get(key);
  }

  /**
   * Keep the sessions an upstream mTLS connection receives (TLS 1.3 tickets arrive after the
   * handshake; node:tls holds back a TLS 1.2 session until the client's checks passed), with the
   * server certificate's fields `verifiedPeer()` kept, unless the certificate, roots or deny list
   * changed since it was dialed.
   */
  keepSessions(socket: TLSSocket, key: string, verifiedPeer: () => ServerPeer | undefined): void {
    const generation = this.#generation;
    socket.on("session", (session: Buffer) => {
      const peer = verifiedPeer();
      if (peer === undefined || generation !== this.#generation) return;
      if (this.#sessions.size >= MAX_SESSIONS && !this.#sessions.has(key)) this.#sessions.delete(this.#sessions.keys().next().value as string);
      this.#sessions.set(key, { session, peer });
    });
  }

  /** A resumed (or any) handshake toward `key` failed: do not offer its session again. */
  dropSession(key: string): void {
    this.#sessions.delete(key);
  }

  #forgetSessions(): void {
    this.#generation++;
    this.#sessions.clear();
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

/** A TLS session to resume and the verified server certificate's fields it was made with. */
export interface KeptSession {
  readonly session: Buffer;
  readonly peer: ServerPeer;
}

/** The server certificate's fields read from the socket (a connection the handshake's check did not record). */
function peerOfSocket(s: TLSSocket): ServerPeer | undefined {
  const cert = s.getPeerCertificate();
  return cert !== null && typeof cert === "object" && cert.raw !== undefined ? serverPeerOf(cert) : undefined;
}

/** Sessions kept at most (one per upstream endpoint, SNI and SAN set; the oldest goes first). */
const MAX_SESSIONS = 1024;

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Lower-case hex serial without separators, as ProxyConfig.revocations lists them. */
export function normalSerial(serial: string): string {
  return serial.replace(/:/g, "").toLowerCase().replace(/^0+(?=.)/, "");
}
