// Virtual hosts. Sidecar: one RouteConfiguration "outbound" (apps use the sidecar as an HTTP
// proxy), one virtual host per HTTP service port, with Istio's domain variants, its VirtualService
// routes or a default route; plus VirtualService hosts that are no service, and a catch-all
// (passthrough or 502). Gateway: one RouteConfiguration `http.<port>` per server port, from the
// VirtualServices bound to the gateway, with domains = server hosts ∩ VirtualService hosts.
import type { GatewaySpec, Server, VirtualServiceSpec } from "../../model/specs/networking.ts";
import type { Route, RouteConfiguration, VirtualHost } from "../../model/proxy-config.ts";
import type { Service } from "../../model/registry.ts";
import { labelsMatch } from "../../model/registry.ts";
import type { ConfigEntry } from "../../model/snapshot.ts";
import { PASSTHROUGH_CLUSTER } from "./clusters.ts";
import { arr, cmp, hostMatches, hostSpecificity, num, obj, str, strMap } from "./common.ts";
import { terminatesTls } from "./gateway-tls.ts";
import { resolvedVsHosts } from "./index-cache.ts";
import { routeMatch } from "./route-parts.ts";
import { defaultRoute, virtualServiceApplies, virtualServiceRoutes, type RouteContext } from "./routes.ts";
import type { ProxyScope } from "./scope.ts";

export const OUTBOUND_ROUTE_CONFIG = "outbound";
const HTTP_PROTOCOLS = new Set(["http", "http2", "grpc", "grpc-web", ""]);

export function isHttpPort(protocol: string): boolean {
  return HTTP_PROTOCOLS.has(protocol);
}

function withPort(domain: string, port: number): string {
  return `${domain}:${port}`;
}

/**
 * Istio's domains for a service port as seen from a proxy in `proxyNs` (GenerateAltVirtualHosts):
 * the FQDN; for Kubernetes hosts `name.ns` and `name.ns.svc`, plus bare `name` in the proxy's own
 * namespace; the service addresses; each with and without `:port`. All ports share one route
 * configuration here (Istio's HTTP-proxy mode), so, as Istio does there, only port 80 keeps the
 * forms without a port — otherwise `reviews` would be claimed by every port of the service.
 */
export function serviceDomains(service: Service, port: number, proxyNs: string, domainSuffix: string): string[] {
  const names = [service.host];
  const kubeSuffix = `.svc.${domainSuffix}`;
  if (service.host.endsWith(kubeSuffix) && !service.host.startsWith("*")) {
    const parts = service.host.slice(0, -kubeSuffix.length).split(".");
    if (parts.length === 2) {
      const [name, ns] = parts as [string, string];
      if (ns === proxyNs) names.push(name);
      names.push(`${name}.${ns}.svc`, `${name}.${ns}`);
    }
  }
  names.push(...service.addresses.filter((a) => a && a !== "0.0.0.0"));
  const out: string[] = [];
  for (const n of names) out.push(n, withPort(n, port));
  return port === 80 ? out : out.filter((d) => d.includes(":"));
}

interface VsForHost {
  vs: ConfigEntry<VirtualServiceSpec>;
  pattern: string;
}

export function resolvedHosts(vs: ConfigEntry<VirtualServiceSpec>, domainSuffix: string): readonly string[] {
  return resolvedVsHosts(vs, domainSuffix);
}

/** The VirtualService for a host: an exact host beats wildcards, a longer wildcard beats a shorter; then namespace/name order. */
export function virtualServiceFor(list: readonly ConfigEntry<VirtualServiceSpec>[], host: string, domainSuffix: string): VsForHost | undefined {
  return virtualServiceLookup(list, domainSuffix)(host);
}

/**
 * `virtualServiceFor` over one list, indexed once: exact hosts in a map, wildcards in a list. Same
 * answer as a scan: the most specific pattern, ties to the first in list (then host) order.
 */
export function virtualServiceLookup(list: readonly ConfigEntry<VirtualServiceSpec>[], domainSuffix: string): (host: string) => VsForHost | undefined {
  const exact = new Map<string, VsForHost>();
  const wildcard: VsForHost[] = [];
  for (const vs of list) {
    for (const pattern of resolvedHosts(vs, domainSuffix)) {
      if (pattern.startsWith("*")) wildcard.push({ vs, pattern });
      else if (!exact.has(pattern)) exact.set(pattern, { vs, pattern });
    }
  }
  return (host) => {
    // An exact (non-wildcard) pattern equal to the host outranks every wildcard.
    const hit = exact.get(host);
    if (hit) return hit;
    let best: VsForHost | undefined;
    for (const w of wildcard) {
      if (!hostMatches(w.pattern, host)) continue;
      if (!best || hostSpecificity(w.pattern) > hostSpecificity(best.pattern)) best = w;
    }
    return best;
  };
}

export function outboundRouteConfiguration(scope: ProxyScope): RouteConfiguration {
  const suffix = scope.snapshot.mesh.domainSuffix;
  const meshCtx: RouteContext = { scope, port: 0 };
  const meshVs = scope.virtualServices.filter((vs) => resolvedHosts(vs, suffix).length > 0 && virtualServiceApplies(vs, meshCtx));
  const vsFor = virtualServiceLookup(meshVs, suffix);
  const vhosts: VirtualHost[] = [];
  for (const svc of scope.services) {
    if (svc.host.startsWith("*")) continue;
    const found = vsFor(svc.host);
    for (const port of svc.ports) {
      if (!isHttpPort(port.protocol)) continue;
      const ctx: RouteContext = { scope, port: port.port };
      const routes = found ? virtualServiceRoutes(found.vs, ctx) : [defaultRoute(svc.host, port.port, scope)];
      vhosts.push({ name: withPort(svc.host, port.port), domains: serviceDomains(svc, port.port, scope.node.namespace, suffix), routes });
    }
  }
  // VirtualService hosts that name no visible service still route (e.g. a VS for an external name or a wildcard).
  const taken = new Set(vhosts.flatMap((v) => v.domains));
  for (const vs of meshVs) {
    for (const host of resolvedHosts(vs, suffix)) {
      if (host === "*" || scope.serviceFor(host) !== undefined) continue;
      const name = withPort(host, 80);
      if (taken.has(host) || taken.has(name)) continue;
      const owner = vsFor(host);
      if (owner?.vs !== vs) continue;
      const domains = host.startsWith("*") ? [host] : [host, name];
      domains.forEach((d) => taken.add(d));
      vhosts.push({ name, domains, routes: virtualServiceRoutes(vs, { scope, port: 80 }) });
    }
  }
  vhosts.sort((a, b) => cmp(a.name, b.name));
  vhosts.push(catchAllVirtualHost(scope));
  return { name: OUTBOUND_ROUTE_CONFIG, virtualHosts: vhosts };
}

/** ALLOW_ANY: anything else goes out as requested (PassthroughCluster, no timeout); REGISTRY_ONLY: 502, as Istio's BlackHole. */
function catchAllVirtualHost(scope: ProxyScope): VirtualHost {
  const origin = { resource: "default", ruleIndex: -1, matchIndex: -1 };
  if (scope.outboundTrafficPolicy === "ALLOW_ANY") {
    return {
      name: "allow_any",
      domains: ["*"],
      routes: [{
        name: "allow_any",
        match: routeMatch(undefined),
        action: { kind: "forward", clusters: [{ cluster: PASSTHROUGH_CLUSTER, weight: 100 }], timeoutMs: 0, retry: { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: false }, mirrors: [] },
        origin,
      }],
    };
  }
  return { name: "block_all", domains: ["*"], routes: [{ name: "block_all", match: routeMatch(undefined), action: { kind: "direct", status: 502 }, origin }] };
}

export interface GatewayServer {
  gateway: ConfigEntry<GatewaySpec>;
  /** `namespace/name` */
  ref: string;
  server: Server;
  port: number;
}

const GATEWAY_HTTP = new Set(["HTTP", "HTTP2", "GRPC", "GRPC-WEB"]);

/** HTTP servers (and HTTPS servers terminating TLS) of the Gateways selecting this gateway proxy (by labels, any namespace). */
export function gatewayServers(scope: ProxyScope): GatewayServer[] {
  const out: GatewayServer[] = [];
  for (const gw of scope.snapshot.gateways) {
    const selector = strMap(gw.spec.selector) ?? {};
    if (!labelsMatch(selector, scope.node.labels)) continue;
    for (const server of arr(gw.spec.servers)) {
      const s = obj(server);
      const port = num(obj(s?.port)?.number);
      const protocol = (str(obj(s?.port)?.protocol) ?? "").toUpperCase();
      // HTTPS servers that terminate TLS here carry HTTP too (docs/protocols.md).
      if (!s || !port || !(GATEWAY_HTTP.has(protocol) || (protocol === "HTTPS" && terminatesTls(s)))) continue;
      out.push({ gateway: gw, ref: `${gw.namespace}/${gw.name}`, server: s, port });
    }
  }
  return out;
}

/** Server host `ns/host` (or `host` = any namespace) admits a VirtualService host from `vsNs`. */
function serverHostAdmits(serverHost: string, gatewayNs: string, vsNs: string, vsHost: string): string | undefined {
  const slash = serverHost.indexOf("/");
  const nsPart = slash < 0 ? "*" : serverHost.slice(0, slash);
  const host = slash < 0 ? serverHost : serverHost.slice(slash + 1);
  if (!(nsPart === "*" || nsPart === vsNs || (nsPart === "." && vsNs === gatewayNs))) return undefined;
  if (hostMatches(host, vsHost)) return vsHost;
  if (hostMatches(vsHost, host)) return host;
  return undefined;
}

export function gatewayRouteConfigurations(scope: ProxyScope, servers: readonly GatewayServer[]): RouteConfiguration[] {
  const suffix = scope.snapshot.mesh.domainSuffix;
  const byPort = new Map<number, GatewayServer[]>();
  for (const s of servers) byPort.set(s.port, [...(byPort.get(s.port) ?? []), s]);
  const out: RouteConfiguration[] = [];
  for (const [port, list] of [...byPort.entries()].sort((a, b) => a[0] - b[0])) {
    const vhosts = new Map<string, VirtualHost>();
    const redirects = new Set<string>();
    const merged = new Set<string>();
    for (const gs of list) {
      const ctx: RouteContext = { scope, port, gateway: gs.ref };
      const serverHosts = arr(gs.server.hosts).filter((h): h is string => typeof h === "string");
      for (const vs of scope.virtualServices) {
        if (!virtualServiceApplies(vs, ctx)) continue;
        let routes: Route[] | undefined;
        for (const vsHost of resolvedHosts(vs, suffix)) {
          for (const sh of serverHosts) {
            const host = serverHostAdmits(sh, gs.gateway.namespace, vs.namespace, vsHost);
            if (!host) continue;
            routes ??= virtualServiceRoutes(vs, ctx);
            const name = withPort(host, port);
            const vh = vhosts.get(name) ?? { name, domains: host === "*" ? ["*"] : [host, name], routes: [] };
            vhosts.set(name, vh);
            // Several VirtualServices for one host at a gateway are merged in order, as Istio does; each once.
            if (!merged.has(`${name} ${vs.id}`)) vh.routes.push(...structuredClone(routes));
            merged.add(`${name} ${vs.id}`);
            if (obj(gs.server.tls)?.httpsRedirect === true) redirects.add(name);
          }
        }
      }
    }
    for (const name of redirects) {
      const vh = vhosts.get(name)!;
      vh.routes = [{ name: "https_redirect", match: routeMatch(undefined), action: { kind: "redirect", scheme: "https", code: 301 }, origin: { resource: "default", ruleIndex: -1, matchIndex: -1 } }];
    }
    out.push({ name: `http.${port}`, virtualHosts: [...vhosts.values()].sort((a, b) => cmp(a.name, b.name)) });
  }
  return out;
}
