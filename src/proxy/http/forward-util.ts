// Small pure helpers of the forwarding layer.
import type { Exchange } from "./exchange.ts";

/** Methods a proxy may send twice (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "PUT" || method === "DELETE" || method === "TRACE";
}

/** `host:port` of the authority (PASSTHROUGH); the listener port when the authority has none. */
export function originalDestination(authority: string, defaultPort: number): { address: string; port: number } | null {
  if (authority === "") return null;
  let host = authority;
  let port = defaultPort;
  const close = authority.lastIndexOf("]");
  const colon = authority.lastIndexOf(":");
  if (colon > close) {
    host = authority.slice(0, colon);
    port = Number(authority.slice(colon + 1));
  }
  if (host.startsWith("[")) host = host.slice(1, -1);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  return { address: host, port };
}

export function hashConn(x: Exchange): { sourceIp: string; remoteAddress: string; localAddress: string } {
  const s = x.conn.socket;
  return { sourceIp: x.sourceIp, remoteAddress: `${s.remoteAddress}:${s.remotePort}`, localAddress: `${s.localAddress}:${s.localPort}` };
}
