// TLS termination in front of an HTTP listener (Gateway servers with tls SIMPLE / MUTUAL): a
// node:tls server whose certificate is chosen per SNI (SNICallback), ALPN (h2, http/1.1), and client
// certificates for MUTUAL servers. The decrypted TLSSocket goes to the same HTTP/1.1 codec as a
// plain connection, or to HTTP/2 when ALPN chose h2. Files are read when the listener is built
// (a config push re-reads them).
import { readFileSync } from "node:fs";
import { createSecureContext, createServer, type SecureContext, type Server, type TLSSocket } from "node:tls";
import type { DownstreamTlsConfig, DownstreamTlsServer } from "../../model/proxy-config.ts";
import { sanMatches } from "./upstream-tls.ts";

export class DownstreamTlsError extends Error {
  readonly code = "TLS_CONFIG";
  constructor(message: string) {
    super(`downstream tls: ${message}`);
    this.name = "DownstreamTlsError";
  }
}

interface Entry {
  server: DownstreamTlsServer;
  context: SecureContext;
}

function read(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DownstreamTlsError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
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
 * client certificate and close connections whose certificate is missing, untrusted, or lacks the
 * configured SANs (after the handshake, so SIMPLE and MUTUAL hosts can share one port).
 */
export function createTlsListenerServer(cfg: DownstreamTlsConfig, onConnection: (s: TLSSocket) => void, alpn: string[] = ["http/1.1"]): Server {
  if (cfg.servers.length === 0) throw new DownstreamTlsError("no server certificates");
  const entries: Entry[] = cfg.servers.map((server) => ({
    server,
    context: createSecureContext({
      cert: read(server.serverCertificate, "serverCertificate"),
      key: read(server.privateKey, "privateKey"),
      ...(server.caCertificates !== undefined ? { ca: read(server.caCertificates, "caCertificates") } : {}),
      ...(cfg.minProtocolVersion !== undefined ? { minVersion: cfg.minProtocolVersion } : {}),
    }),
  }));
  const first = entries[0]!;
  const anyMutual = entries.some((e) => e.server.mode === "MUTUAL");
  const srv = createServer(
    {
      cert: read(first.server.serverCertificate, "serverCertificate"),
      key: read(first.server.privateKey, "privateKey"),
      ...(first.server.caCertificates !== undefined ? { ca: read(first.server.caCertificates, "caCertificates") } : {}),
      ...(cfg.minProtocolVersion !== undefined ? { minVersion: cfg.minProtocolVersion } : {}),
      // Protocols: HTTP listeners offer h2 too (the dispatcher sends ALPN h2 to node:http2).
      ALPNProtocols: alpn,
      requestCert: anyMutual,
      // Checked per server after the handshake (below), so one port can mix SIMPLE and MUTUAL hosts.
      rejectUnauthorized: false,
      SNICallback: (name, cb) => cb(null, pickBySni(entries.map((e) => ({ hosts: e.server.hosts, e })), name)?.e.context ?? first.context),
    },
    (socket: TLSSocket) => {
      const sni = (socket as TLSSocket & { servername?: string | false }).servername;
      const entry = pickBySni(entries.map((e) => ({ hosts: e.server.hosts, e })), typeof sni === "string" ? sni : undefined)?.e ?? first;
      if (entry.server.mode === "MUTUAL" && !clientAllowed(socket, entry.server)) {
        socket.destroy();
        return;
      }
      onConnection(socket);
    },
  );
  // Handshake failures (bad client hello, rejected protocol) only concern that client.
  srv.on("tlsClientError", (_e, s) => s.destroy());
  return srv;
}

function clientAllowed(socket: TLSSocket, server: DownstreamTlsServer): boolean {
  if (!socket.authorized) return false;
  const sans = server.subjectAltNames ?? [];
  return sans.length === 0 || sanMatches(socket.getPeerCertificate(), sans);
}
