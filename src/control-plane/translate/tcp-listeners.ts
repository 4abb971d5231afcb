// Outbound TCP listeners (sidecar) and TCP gateway servers. In the local mesh the app cannot be
// captured transparently, so each TCP service port gets its own local listener that the app
// dials instead of the service (`outbound_tcp|<port>|<host>`, on `tcpPorts["host:port"]`, else the
// next unused port of `tcpPortPool`, else — no pool — the service port). Its route comes from the host's VirtualService `tcp` rules: the first rule with
// a match entry that holds for this proxy and port (sourceLabels, sourceNamespace, gateways, port,
// destinationSubnets against the service addresses) — decided here, since a listener serves one
// service port — else the default cluster `outbound|<port>||<host>`. TLS ports (tls/https without
// TLS origination) also get `sniRoutes` from the `tls` rules (sniHosts), else their own host as
// the server name; TLS services sharing a local port share its listener. docs/protocols.md
import type { L4MatchAttributes, Server, TCPRoute, TLSMatchAttributes, TLSRoute, VirtualServiceSpec } from "../../model/specs/networking.ts";
import type { Cluster, Listener, SniRoute, WeightedCluster } from "../../model/proxy-config.ts";
import { clusterKey } from "../../model/proxy-config.ts";
import { labelsMatch, type Service, type WorkloadInstance } from "../../model/registry.ts";
import type { ConfigEntry } from "../../model/snapshot.ts";
import { arr, cmp, hostsIntersect, num, obj, str, strMap, type ProxyInput } from "./common.ts";
import { gatewayListenerTls, terminatesTls } from "./gateway-tls.ts";
import { destinationCluster, gatewayRef, virtualServiceApplies, type RouteContext } from "./routes.ts";
import type { ProxyScope } from "./scope.ts";
import { resolvedHosts, virtualServiceLookup } from "./virtual-hosts.ts";

const LOCALHOST = "127.0.0.1";
const GATEWAY_TCP = new Set(["TCP", "MONGO", "MYSQL", "REDIS"]);

/** Listener name of the outbound TCP listener of one service port. */
export function outboundTcpListenerName(host: string, port: number): string {
  return `outbound_tcp|${port}|${host}`;
}

/**
 * One TCP listener per visible service port whose default cluster speaks plain TCP. Listeners
 * whose address:port is already `taken` (HTTP listeners, inbound ports, an earlier service) are
 * skipped: the first by host wins, as the runtime should have given each its own port.
 */
export function outboundTcpListeners(scope: ProxyScope, byName: ReadonlyMap<string, Cluster>, taken: Set<string>): Listener[] {
  const candidates = tcpServicePorts(scope.services, byName);
  // Most meshes have no TCP service port: nothing to look at per proxy.
  if (candidates.length === 0) return [];
  const suffix = scope.snapshot.mesh.domainSuffix;
  const meshVs = scope.virtualServices.filter((vs) => resolvedHosts(vs, suffix).length > 0 && virtualServiceApplies(vs, { scope, port: 0 }));
  const vsFor = virtualServiceLookup(meshVs, suffix);
  const address = scope.node.outboundAddress ?? LOCALHOST;
  const out: Listener[] = [];
  const byKey = new Map<string, Listener>();
  const localPort = localPortPicker(scope.node);
  for (const { svc, port, base } of candidates) {
    const found = vsFor(svc.host);
    const local = localPort(`${svc.host}:${port.port}`, port.port);
    if (local === undefined) continue;
    const key = `${address}:${local}`;
    const ctx: RouteContext = { scope, port: port.port };
    const tls = port.protocol === "tls" || port.protocol === "https";
    if (taken.has(key)) {
      // Another TLS service on this local port: its server names join the listener's routes.
      const shared = byKey.get(key);
      if (tls && shared?.sniRoutes !== undefined) shared.sniRoutes.push(...sniRoutes(found?.vs, ctx, svc, base.name));
      continue;
    }
    taken.add(key);
    const routed = found ? tcpRouteClusters(found.vs, ctx, svc) : undefined;
    const l: Listener = {
      name: outboundTcpListenerName(svc.host, port.port),
      direction: "outbound",
      address,
      port: local,
      protocol: "tcp",
      tcpRoute: { clusters: routed ?? [{ cluster: base.name, weight: 100 }] },
    };
    if (tls) l.sniRoutes = sniRoutes(found?.vs, ctx, svc, base.name);
    byKey.set(key, l);
    out.push(l);
  }
  return out.sort((a, b) => cmp(a.name, b.name));
}

interface TcpServicePort {
  svc: Service;
  port: Service["ports"][number];
  base: Cluster;
}

/** Per proxy class and snapshot (keyed by the class's visible services): the service ports whose default cluster is TCP, in service order. */
const tcpPortsByClass = new WeakMap<readonly Service[], TcpServicePort[]>();

function tcpServicePorts(services: readonly Service[], byName: ReadonlyMap<string, Cluster>): TcpServicePort[] {
  let list = tcpPortsByClass.get(services);
  if (list !== undefined) return list;
  list = [];
  for (const svc of services) {
    if (svc.host.startsWith("*")) continue;
    for (const port of svc.ports) {
      const base = byName.get(clusterKey("outbound", port.port, "", svc.host));
      if (base?.protocol === "tcp" && port.protocol !== "udp") list.push({ svc, port, base });
    }
  }
  tcpPortsByClass.set(services, list);
  return list;
}

/** The local port of each TCP service port: `tcpPorts`, else the next unused pool port, else (no pool) the service port. */
function localPortPicker(node: ProxyInput): (key: string, servicePort: number) => number | undefined {
  const fixed = node.tcpPorts ?? {};
  const pool = node.tcpPortPool;
  if (pool === undefined) return (key, servicePort) => fixed[key] ?? servicePort;
  const used = new Set(Object.values(fixed));
  let next = 0;
  return (key) => {
    const own = fixed[key];
    if (own !== undefined) return own;
    while (next < pool.length && used.has(pool[next]!)) next++;
    return next < pool.length ? pool[next++] : undefined;
  };
}

/** `host:port` → local port of every outbound TCP listener in a config (what a pool assignment gave out). */
export function outboundTcpPorts(listeners: readonly Listener[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of listeners) {
    if (!l.name.startsWith("outbound_tcp|")) continue;
    const [, port, host] = l.name.split("|");
    out[`${host}:${port}`] = l.port;
  }
  return out;
}

/** The clusters of the first applicable `tcp` rule, undefined when none applies. */
export function tcpRouteClusters(vs: ConfigEntry<VirtualServiceSpec>, ctx: RouteContext, service: Service | undefined): WeightedCluster[] | undefined {
  for (const r of arr(vs.spec.tcp)) {
    const rule = obj<TCPRoute>(r);
    if (!rule) continue;
    const matches = arr(rule.match).map((m) => obj(m)).filter((m): m is L4MatchAttributes => m !== undefined);
    if (matches.length > 0 && !matches.some((m) => l4MatchApplies(m, vs, ctx, service))) continue;
    const clusters = weightedDestinations(rule.route, vs, ctx);
    if (clusters !== undefined) return clusters;
  }
  return undefined;
}

function weightedDestinations(route: TCPRoute["route"], vs: ConfigEntry<VirtualServiceSpec>, ctx: RouteContext): WeightedCluster[] | undefined {
  const dests = arr(route).map((d) => obj(d)).filter((d) => d !== undefined && obj(d.destination) !== undefined);
  // Envoy has no zero-weight destination: Istio drops them when there are several.
  const live = dests.length > 1 ? dests.filter((d) => (num(d!.weight) ?? 0) > 0) : dests;
  if (live.length === 0) return undefined;
  return live.map((d) => ({ cluster: destinationCluster(d!.destination!, vs.namespace, ctx).cluster, weight: live.length === 1 ? 100 : num(d!.weight) ?? 0 }));
}

/**
 * TLS routes of one service port: one entry per applicable `tls` match (its sniHosts, lower
 * case) in rule order; without any, the service host itself as the server name → `fallback`.
 */
export function sniRoutes(vs: ConfigEntry<VirtualServiceSpec> | undefined, ctx: RouteContext, service: Service | undefined, fallback: string | undefined): SniRoute[] {
  const out: SniRoute[] = [];
  for (const r of vs !== undefined ? arr(vs.spec.tls) : []) {
    const rule = obj<TLSRoute>(r);
    if (!rule || vs === undefined) continue;
    const clusters = weightedDestinations(rule.route, vs, ctx);
    if (clusters === undefined) continue;
    for (const m of arr(rule.match).map((x) => obj<TLSMatchAttributes>(x))) {
      if (m === undefined || !l4MatchApplies(m, vs, ctx, service)) continue;
      const names = arr(m.sniHosts).filter((h): h is string => typeof h === "string" && h !== "").map((h) => h.toLowerCase());
      if (names.length > 0) out.push({ serverNames: names, clusters });
    }
  }
  if (out.length === 0 && service !== undefined && fallback !== undefined) out.push({ serverNames: [service.host], clusters: [{ cluster: fallback, weight: 100 }] });
  return out;
}

function l4MatchApplies(m: L4MatchAttributes | TLSMatchAttributes, vs: ConfigEntry<VirtualServiceSpec>, ctx: RouteContext, service: Service | undefined): boolean {
  const node = ctx.scope.node;
  const sl = strMap(m.sourceLabels);
  if (sl && !labelsMatch(sl, node.labels)) return false;
  if (str(m.sourceNamespace) && m.sourceNamespace !== node.namespace) return false;
  const gws = arr(m.gateways).length > 0 ? arr(m.gateways) : arr(vs.spec.gateways);
  const effective = gws.length === 0 ? ["mesh"] : gws;
  if (!effective.some((g) => typeof g === "string" && gatewayRef(g, vs.namespace) === (ctx.gateway ?? "mesh"))) return false;
  const port = num(m.port);
  if (port !== undefined && port !== 0 && port !== ctx.port) return false;
  // The client's address is only known per connection: a sourceSubnet entry cannot be decided here.
  if ("sourceSubnet" in m && str(m.sourceSubnet)) return false;
  const subnets = arr(m.destinationSubnets).filter((s): s is string => typeof s === "string");
  if (subnets.length > 0) {
    const addrs = service?.addresses ?? [];
    if (!addrs.some((a) => subnets.some((s) => inSubnet(a, s)))) return false;
  }
  return true;
}

/** IPv4 CIDR (or a bare address) containment; IPv6 only by exact address. */
export function inSubnet(address: string, subnet: string): boolean {
  const slash = subnet.indexOf("/");
  const net = slash < 0 ? subnet : subnet.slice(0, slash);
  const a = ipv4(address);
  const n = ipv4(net);
  if (a === undefined || n === undefined) return address === net;
  const bits = slash < 0 ? 32 : Number(subnet.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  if (bits === 0) return true;
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((n & mask) >>> 0);
}

function ipv4(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const x = Number(p);
    if (x > 255) return undefined;
    v = v * 256 + x;
  }
  return v;
}

/**
 * Gateway servers of protocol TCP (and MONGO/MYSQL/REDIS): a TCP listener `<bind|0.0.0.0>_<port>`
 * routed by the `tcp` rules of the VirtualServices bound to the Gateway whose hosts meet the
 * server's. `TLS` servers with `tls.mode: PASSTHROUGH`: the same listener routed by those
 * VirtualServices' `tls` rules (sniRoutes; no SNI match → closed). `TLS` servers that terminate
 * (SIMPLE, MUTUAL, OPTIONAL_MUTUAL, ISTIO_MUTUAL: gateway-tls.ts) get the listener's `tls` and are
 * routed by the `tcp` rules, as Istio does. Ports the gateway instance
 * maps are bound as mapped (see gatewayListeners).
 */
export function gatewayTcpListeners(scope: ProxyScope, own: WorkloadInstance | undefined, taken: Set<string>): Listener[] {
  const suffix = scope.snapshot.mesh.domainSuffix;
  const out: Listener[] = [];
  for (const gw of scope.snapshot.gateways) {
    if (!labelsMatch(strMap(gw.spec.selector) ?? {}, scope.node.labels)) continue;
    for (const server of arr(gw.spec.servers)) {
      const s = obj(server);
      const port = num(obj(s?.port)?.number);
      const protocol = (str(obj(s?.port)?.protocol) ?? "").toUpperCase();
      const passthrough = protocol === "TLS" && str(obj(s?.tls)?.mode) === "PASSTHROUGH";
      // TLS terminated at the gateway (SIMPLE, MUTUAL, OPTIONAL_MUTUAL, ISTIO_MUTUAL), then TCP:
      // Istio's createGatewayTCPFilterChainOpts routes these by the `tcp` rules too.
      const terminated = protocol === "TLS" && s !== undefined && terminatesTls(s as Server);
      if (!s || !port || !(GATEWAY_TCP.has(protocol) || passthrough || terminated)) continue;
      const bind = str(s.bind) ?? "0.0.0.0";
      const name = `${bind}_${port}`;
      const ctx: RouteContext = { scope, port, gateway: `${gw.namespace}/${gw.name}` };
      const serverHosts = arr(s.hosts).filter((h): h is string => typeof h === "string").map((h) => (h.includes("/") ? h.slice(h.indexOf("/") + 1) : h));
      const bound = scope.virtualServices.filter((vs) => virtualServiceApplies(vs, ctx) && resolvedHosts(vs, suffix).some((h) => serverHosts.some((sh) => hostsIntersect(sh, h))));
      let clusters: WeightedCluster[] | undefined;
      let sni: SniRoute[] | undefined;
      if (passthrough) {
        // TLS PASSTHROUGH: the bound VirtualServices' `tls` rules route by SNI; nothing else does.
        sni = bound.flatMap((vs) => sniRoutes(vs, ctx, undefined, undefined));
        if (sni.length === 0) continue;
        clusters = [];
      } else {
        for (const vs of bound) {
          clusters = tcpRouteClusters(vs, ctx, undefined);
          if (clusters) break;
        }
        if (!clusters) continue;
      }
      const mapped = own?.ports?.[String(port)];
      const address = mapped !== undefined && own ? own.address : bind;
      const local = mapped ?? port;
      // Port 0 (tests: any free port) never clashes.
      if ((local !== 0 && taken.has(`${address}:${local}`)) || out.some((l) => l.name === name)) continue;
      taken.add(`${address}:${local}`);
      const l: Listener = { name, direction: "gateway", address, port: local, protocol: "tcp", tcpRoute: { clusters } };
      if (sni !== undefined) l.sniRoutes = sni;
      if (terminated) l.tls = gatewayListenerTls([s as Server]);
      out.push(l);
    }
  }
  return out;
}
