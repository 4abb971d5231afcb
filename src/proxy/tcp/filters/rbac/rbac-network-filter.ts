// rbac (Envoy's network RBAC filter as Istio builds it from AuthorizationPolicy for TCP ports):
// each new connection is decided once by the same pure decision as the HTTP rbac filter
// (http/filters/rbac/decide.ts), compiled in its TCP mode (HTTP-only fields: an ALLOW rule never
// matches, a DENY rule ignores them) over a "TCP view" of the connection. A denied connection is
// closed before tcp_proxy dials anything (no byte is relayed). Counters as Envoy's: per listener
// `tcp.<listener>.rbac.{allowed,denied,shadow_allowed,shadow_denied,logged}` (admin /stats).
import type { TLSSocket } from "node:tls";
import type { RbacConfig } from "../../../../model/proxy-config.ts";
import { auditedLike, compileRbac, decide, decideShadow, type CompiledRbac } from "../../../http/filters/rbac/decide.ts";
import type { AuthzAttributes } from "../../../http/filters/rbac/matcher.ts";
import type { RbacStats } from "../../../http/filters/rbac/rbac-filter.ts";
import { closeConnection, NF_CONTINUE, NF_STOP, type ConnectionContext, type NetworkFilter, type NetworkFilterStatus } from "../../network-filter.ts";

interface Compiled {
  readonly rbac: CompiledRbac;
  readonly stats: Map<string, { owner: object; counters: RbacStats }>;
}

const compiled = new WeakMap<object, Compiled>();

/** The TCP-mode compiled form of a pushed rbac config; throws Error for a bad one. */
function compiledTcpRbac(config: unknown): Compiled {
  if (typeof config !== "object" || config === null) throw new Error(`rbac: config must be an object with "policies"`);
  let c = compiled.get(config);
  if (c === undefined) {
    c = { rbac: compileRbac(config as RbacConfig, true), stats: new Map() };
    compiled.set(config, c);
  }
  return c;
}

function statsOf(x: ConnectionContext, c: Compiled): RbacStats {
  const name = x.listener.name;
  const s = c.stats.get(name);
  if (s !== undefined && s.owner === x.proxy.filterStats) return s.counters;
  const counters = x.proxy.filterStats.group<RbacStats>(`tcp.${name}.rbac`, () => ({ allowed: 0, denied: 0, shadow_allowed: 0, shadow_denied: 0, logged: 0 }));
  c.stats.set(name, { owner: x.proxy.filterStats, counters });
  return counters;
}

const NO_HEADER = (): undefined => undefined;

/** The connection as the matcher sees it: no method, path, host, headers or JWTs. */
export function tcpAttributes(x: Pick<ConnectionContext, "socket" | "listener" | "peerPrincipal">): AuthzAttributes {
  const s = x.socket;
  const source = s.remoteAddress ?? "";
  const sni = (s as Partial<TLSSocket>).servername;
  const peer = x.peerPrincipal;
  return {
    method: "",
    path: "",
    authority: "",
    header: NO_HEADER,
    sourceIp: source,
    // No X-Forwarded-For on a connection: the client is the direct peer.
    remoteIp: source,
    destinationIp: s.localAddress ?? "",
    destinationPort: s.localPort ?? x.listener.port,
    principal: peer.startsWith("spiffe://") ? peer.slice(9) : peer,
    sni: typeof sni === "string" ? sni : "",
    jwts: null,
  };
}

export const rbacNetworkFilter: NetworkFilter = {
  name: "rbac",
  check(config: unknown): void {
    compiledTcpRbac(config);
  },
  onConnection(x: ConnectionContext, config: unknown): NetworkFilterStatus {
    const c = compiledTcpRbac(config);
    const rbac = c.rbac;
    const stats = statsOf(x, c);
    const a = tcpAttributes(x);
    const verdict = decide(rbac, a);
    const shadow = decideShadow(rbac, a);
    if (rbac.audit.length > 0 && auditedLike(rbac, a, undefined).length > 0) stats.logged++;
    if (shadow !== null) {
      if (shadow.allowed) stats.shadow_allowed++;
      else stats.shadow_denied++;
    }
    if (verdict.allowed) {
      stats.allowed++;
      return NF_CONTINUE;
    }
    stats.denied++;
    closeConnection(x);
    return NF_STOP;
  },
};
