// A peer's address as the proxy reports and matches it (Envoy's source.ip, RBAC's remote_ip /
// source_ip, the source-IP hash key): an IPv4 client of a dual-stack socket appears to Node as
// `::ffff:a.b.c.d`; it is `a.b.c.d` everywhere the proxy names it.

/** `ip` with an IPv4-mapped IPv6 prefix removed. */
export function stripV4Mapped(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}
