// TLS termination in front of an HTTP listener (Gateway servers with tls SIMPLE / MUTUAL /
// OPTIONAL_MUTUAL / ISTIO_MUTUAL): a node:tls server whose certificate is chosen per SNI
// (SNICallback), ALPN (h2, http/1.1; plus Istio's mesh protocols with ISTIO_MUTUAL), and client
// certificates for MUTUAL / OPTIONAL_MUTUAL servers (checked against the server's CA and CRL) and
// ISTIO_MUTUAL ones (the mesh trust bundle and deny list). Each server's certificate comes from
// files or a `credentialName` secret, watched (secrets/watched-credential.ts), or for ISTIO_MUTUAL
// is the proxy's workload certificate: new handshakes use a changed certificate, open
// connections keep theirs. The decrypted TLSSocket goes to the same HTTP/1.1 codec as a plain
// connection, or to HTTP/2 when ALPN chose h2.
import type { SecureContext, SecureContextOptions, Server, TLSSocket } from "node:tls";
import type { DownstreamTlsConfig, DownstreamTlsServer, ProxyConfig } from "../../model/proxy-config.ts";
import { markVerifiedPeer, meshPeerAccepted, SERVER_ALPN } from "../detect/mesh-tls.ts";
import type { MeshCredentials } from "../identity/mesh-credentials.ts";
import { CredentialError, WatchedCredential, type CredentialDeps } from "./secrets/watched-credential.ts";
import { sanListMatches } from "./upstream-tls.ts";
import { tlsModule } from "../../core/builtins.ts";

export class DownstreamTlsError extends Error {
  readonly code = "TLS_CONFIG";
  constructor(message: string) {
    super(`downstream tls: ${message}`);
    this.name = "DownstreamTlsError";
  }
}

interface Entry {
  readonly hosts: readonly string[];
  readonly server: DownstreamTlsServer;
  /** Files or secret; null for ISTIO_MUTUAL (the workload certificate). */
  readonly credential: WatchedCredential | null;
}

/** What TLS termination needs from the proxy beyond files and secrets: its mesh identity and deny list. */
export interface DownstreamTlsDeps extends CredentialDeps {
  mesh?: MeshCredentials | undefined;
  revocations?: () => ProxyConfig["revocations"];
}

/** The entry for an SNI name: exact host, then the longest `*.suffix`, then `*`, else the first. */
export function pickBySni<T extends { hosts: readonly string[] }>(entries: readonly T[], sni: string | undefined): T | undefined {
  if (sni !== undefined && sni !== "") {
    const name = sni.toLowerCase();
    let best: T | undefined;
    let bestScore = -1;
    for (const e of entries) {
      for (const h of e.hosts) {
        const host = h.toLowerCase();
        const score = host === name ? 1_000_000 : host.startsWith("*.") && name.endsWith(host.slice(1)) ? host.length : host === "*" ? 0 : -1;
        if (score > bestScore) {
          best = e;
          bestScore = score;
        }
      }
    }
    if (best !== undefined) return best;
  }
  return entries[0];
}

/**
 * A tls.Server handing each established connection to `onConnection`. MUTUAL servers request a
 * client certificate and close connections whose certificate is missing, untrusted, revoked (CRL)
 * or lacks the configured SANs; OPTIONAL_MUTUAL ones accept a connection without a certificate
 * but refuse a bad one. The check runs once the handshake is done (as node:tls itself does for
 * servers), so SIMPLE and MUTUAL hosts can share one port. `close()` stops watching the files.
 */
export class DownstreamTls {
  readonly server: Server;
  private readonly entries: Entry[];
  /** Connections refused for their client certificate (Envoy's ssl.connection_error counts these too). */
  refused = 0;

  private readonly mesh: MeshCredentials | undefined;
  private readonly revocations: () => ProxyConfig["revocations"];
  /** The workload certificate the default context was made from (ISTIO_MUTUAL first server). */
  private meshDefault: unknown = null;

  constructor(cfg: DownstreamTlsConfig, deps: DownstreamTlsDeps, onConnection: (s: TLSSocket) => void, alpn: string[] = ["http/1.1"]) {
    if (cfg.servers.length === 0) throw new DownstreamTlsError("no server certificates");
    this.mesh = deps.mesh;
    this.revocations = deps.revocations ?? (() => undefined);
    const d: CredentialDeps = { secrets: deps.secrets, namespace: deps.namespace, log: deps.log, ...(cfg.minProtocolVersion !== undefined ? { minVersion: cfg.minProtocolVersion } : {}) };
    this.entries = [];
    try {
      for (const server of cfg.servers) {
        this.entries.push({ hosts: server.hosts, server, credential: server.mode === "ISTIO_MUTUAL" ? null : new WatchedCredential(specOf(server), d) });
      }
    } catch (e) {
      this.close();
      throw e instanceof CredentialError ? new DownstreamTlsError(e.message) : e;
    }
    const first = this.entries[0]!;
    const anyClientCert = this.entries.some((e) => e.server.mode !== "SIMPLE");
    // Mesh clients offer `istio-peer-exchange, istio[, h2]`: without a shared protocol Node fails the handshake.
    const anyMesh = this.entries.some((e) => e.credential === null);
    if (anyMesh && this.mesh === undefined) deps.log("ISTIO_MUTUAL gateway server: this proxy has no workload certificate (amime proxy --xds); its handshakes fail");
    // Protocols: HTTP listeners offer h2 too (the dispatcher sends ALPN h2 to node:http2); TCP ones none.
    const protocols = anyMesh ? [...alpn, ...SERVER_ALPN.filter((p) => !alpn.includes(p))] : alpn;
    this.server = tlsModule().createServer(
      {
        ...(this.defaultOptions(first) ?? {}),
        ...(protocols.length > 0 ? { ALPNProtocols: protocols } : {}),
        requestCert: anyClientCert,
        // Checked per server after the handshake (below), so one port can mix SIMPLE and MUTUAL hosts.
        rejectUnauthorized: false,
        SNICallback: (name, cb) => {
          const ctx = this.contextOf(pickBySni(this.entries, name) ?? first);
          // A server whose secret is missing: the handshake fails (as Envoy without its SDS secret).
          if (ctx === null) cb(new Error(`no certificate for ${name}`), undefined);
          else cb(null, ctx);
        },
      },
      (socket: TLSSocket) => {
        const sni = (socket as TLSSocket & { servername?: string | false }).servername;
        const entry = pickBySni(this.entries, typeof sni === "string" ? sni : undefined) ?? first;
        if (entry.server.mode !== "SIMPLE" && !this.clientAllowed(socket, entry.server)) {
          this.refused++;
          socket.destroy();
          return;
        }
        onConnection(socket);
      },
    );
    // Clients without SNI get the default context: keep it the first server's current one.
    if (first.credential !== null) {
      first.credential.onReload = () => {
        const o = first.credential?.options;
        if (o != null) this.server.setSecureContext(o);
      };
    } else {
      // A rotated workload certificate: the next handshake without SNI uses it.
      this.server.on("connection", () => {
        if (this.mesh?.current !== this.meshDefault && this.mesh?.options != null) {
          this.meshDefault = this.mesh.current;
          this.server.setSecureContext({ ...this.mesh.options });
        }
      });
    }
    // Handshake failures (bad client hello, rejected protocol) only concern that client.
    this.server.on("tlsClientError", (_e, s) => s.destroy());
  }

  private contextOf(e: Entry): SecureContext | null {
    return e.credential !== null ? e.credential.context : (this.mesh?.context ?? null);
  }

  private defaultOptions(e: Entry): SecureContextOptions | null {
    if (e.credential !== null) return e.credential.options;
    this.meshDefault = this.mesh?.current ?? null;
    return this.mesh?.options != null ? { ...this.mesh.options } : null;
  }

  private clientAllowed(socket: TLSSocket, server: DownstreamTlsServer): boolean {
    if (server.mode === "ISTIO_MUTUAL") {
      // The client's mesh certificate: chained to the trust bundle, not on the CA's deny list.
      // One certificate object per connection (getPeerCertificate() rebuilds it at every call).
      const peer = socket.getPeerX509Certificate();
      if (!meshPeerAccepted(socket, this.revocations(), peer)) return false;
      const sans = server.subjectAltNames ?? [];
      if (sans.length > 0 && !sanListMatches(peer?.subjectAltName, sans)) return false;
      markVerifiedPeer(socket, peer);
      this.meshOpen.add(socket);
      socket.once("close", () => this.meshOpen.delete(socket));
      return true;
    }
    return clientAllowed(socket, server);
  }

  /** Open connections an ISTIO_MUTUAL server accepted (closed when the deny list comes to name their certificate). */
  private readonly meshOpen = new Set<TLSSocket>();

  /** A new deny list: close the ISTIO_MUTUAL connections whose client certificate it now names. Returns how many. */
  closeRevoked(revocations: ProxyConfig["revocations"]): number {
    if (revocations === undefined || (revocations.serials.length === 0 && revocations.identities.length === 0)) return 0;
    let closed = 0;
    for (const t of this.meshOpen) {
      if (meshPeerAccepted(t, revocations)) continue;
      this.meshOpen.delete(t);
      t.destroy();
      closed++;
    }
    return closed;
  }

  /** Resolves once every certificate reload in progress is done (tests). */
  async settled(): Promise<void> {
    await Promise.all(this.entries.map((e) => e.credential?.settled()));
  }

  /** Stop watching certificate files and secrets (the listener is closing). */
  close(): void {
    for (const e of this.entries) e.credential?.close();
  }
}

function specOf(s: DownstreamTlsServer): ConstructorParameters<typeof WatchedCredential>[0] {
  const needCa = s.mode !== "SIMPLE";
  if (s.credentialName !== undefined) return { credentialName: s.credentialName, needCert: true, needCa, ...(s.caCrl !== undefined ? { crl: s.caCrl } : {}) };
  return {
    needCert: true,
    needCa,
    ...(s.serverCertificate !== undefined ? { cert: s.serverCertificate } : {}),
    ...(s.privateKey !== undefined ? { key: s.privateKey } : {}),
    ...(s.caCertificates !== undefined ? { ca: s.caCertificates } : {}),
    ...(s.caCrl !== undefined ? { crl: s.caCrl } : {}),
  };
}

function clientAllowed(socket: TLSSocket, server: DownstreamTlsServer): boolean {
  const peer = socket.getPeerX509Certificate();
  // OPTIONAL_MUTUAL: no certificate is fine; one that was presented must verify (Istio's API).
  if (peer === undefined) return server.mode === "OPTIONAL_MUTUAL";
  if (!socket.authorized) return false;
  const sans = server.subjectAltNames ?? [];
  return sans.length === 0 || sanListMatches(peer.subjectAltName, sans);
}
