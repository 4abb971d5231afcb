// TLS termination in front of an HTTP listener (Gateway servers with tls SIMPLE / MUTUAL /
// OPTIONAL_MUTUAL): a node:tls server whose certificate is chosen per SNI (SNICallback), ALPN (h2,
// http/1.1), and client certificates for MUTUAL / OPTIONAL_MUTUAL servers (checked against the
// server's CA and CRL). Each server's certificate comes from files or a `credentialName` secret,
// watched (secrets/watched-credential.ts): new handshakes use a changed certificate, open
// connections keep theirs. The decrypted TLSSocket goes to the same HTTP/1.1 codec as a plain
// connection, or to HTTP/2 when ALPN chose h2.
import { createServer, type Server, type TLSSocket } from "node:tls";
import type { DownstreamTlsConfig, DownstreamTlsServer } from "../../model/proxy-config.ts";
import { CredentialError, WatchedCredential, type CredentialDeps } from "./secrets/watched-credential.ts";
import { sanMatches } from "./upstream-tls.ts";

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
  readonly credential: WatchedCredential;
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

  constructor(cfg: DownstreamTlsConfig, deps: CredentialDeps, onConnection: (s: TLSSocket) => void, alpn: string[] = ["http/1.1"]) {
    if (cfg.servers.length === 0) throw new DownstreamTlsError("no server certificates");
    const d: CredentialDeps = { ...deps, ...(cfg.minProtocolVersion !== undefined ? { minVersion: cfg.minProtocolVersion } : {}) };
    this.entries = [];
    try {
      for (const server of cfg.servers) this.entries.push({ hosts: server.hosts, server, credential: new WatchedCredential(specOf(server), d) });
    } catch (e) {
      this.close();
      throw e instanceof CredentialError ? new DownstreamTlsError(e.message) : e;
    }
    const first = this.entries[0]!;
    const anyClientCert = this.entries.some((e) => e.server.mode !== "SIMPLE");
    this.server = createServer(
      {
        ...(first.credential.options ?? {}),
        // Protocols: HTTP listeners offer h2 too (the dispatcher sends ALPN h2 to node:http2).
        ALPNProtocols: alpn,
        requestCert: anyClientCert,
        // Checked per server after the handshake (below), so one port can mix SIMPLE and MUTUAL hosts.
        rejectUnauthorized: false,
        SNICallback: (name, cb) => {
          const ctx = (pickBySni(this.entries, name) ?? first).credential.context;
          // A server whose secret is missing: the handshake fails (as Envoy without its SDS secret).
          if (ctx === null) cb(new Error(`no certificate for ${name}`), undefined);
          else cb(null, ctx);
        },
      },
      (socket: TLSSocket) => {
        const sni = (socket as TLSSocket & { servername?: string | false }).servername;
        const entry = pickBySni(this.entries, typeof sni === "string" ? sni : undefined) ?? first;
        if (entry.server.mode !== "SIMPLE" && !clientAllowed(socket, entry.server)) {
          this.refused++;
          socket.destroy();
          return;
        }
        onConnection(socket);
      },
    );
    // Clients without SNI get the default context: keep it the first server's current one.
    first.credential.onReload = () => {
      const o = first.credential.options;
      if (o !== null) this.server.setSecureContext(o);
    };
    // Handshake failures (bad client hello, rejected protocol) only concern that client.
    this.server.on("tlsClientError", (_e, s) => s.destroy());
  }

  /** Resolves once every certificate reload in progress is done (tests). */
  async settled(): Promise<void> {
    await Promise.all(this.entries.map((e) => e.credential.settled()));
  }

  /** Stop watching certificate files and secrets (the listener is closing). */
  close(): void {
    for (const e of this.entries) e.credential.close();
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
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  // OPTIONAL_MUTUAL: no certificate is fine; one that was presented must verify (Istio's API).
  if (!presented) return server.mode === "OPTIONAL_MUTUAL";
  if (!socket.authorized) return false;
  const sans = server.subjectAltNames ?? [];
  return sans.length === 0 || sanMatches(socket.getPeerCertificate(), sans);
}
