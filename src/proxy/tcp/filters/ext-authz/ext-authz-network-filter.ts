// ext_authz on TCP (Envoy's network ext_authz filter as Istio builds it for a CUSTOM
// AuthorizationPolicy with a gRPC provider; an HTTP provider has none, as in Istio): a new connection
// that a CUSTOM rule matches (TCP mode: HTTP-only fields are dropped from these DENY-action rules,
// which widens them, as Istio) is held, unread, while the provider is asked with the connection's
// peers; allowed, it goes on to rbac and tcp_proxy; denied, it is closed before any upstream is
// dialed; a failed check closes it unless failOpen. Counters `tcp.<listener>.ext_authz.*`.
import type { ExtAuthzConfig } from "../../../../model/proxy-config.ts";
import { checkProvider, grpcClient, providerClients, type Clients, type ExtAuthzStats } from "../../../http/filters/ext-authz/ext-authz-filter.ts";
import type { CheckOutcome } from "../../../http/filters/ext-authz/check.ts";
import { compileRbac, decide, type CompiledRbac } from "../../../http/filters/rbac/decide.ts";
import { pickConnectionHost } from "../../../upstream/host-choice.ts";
import { closeConnection, NF_CONTINUE, NF_STOP, resumeConnection, type ConnectionContext, type NetworkFilter, type NetworkFilterStatus } from "../../network-filter.ts";
import { tcpAttributes } from "../rbac/rbac-network-filter.ts";

interface Compiled {
  readonly rules: CompiledRbac;
  readonly config: ExtAuthzConfig;
  readonly clients: Clients;
  readonly stats: Map<string, { owner: object; counters: ExtAuthzStats }>;
}

const compiled = new WeakMap<object, Compiled>();

function compiledTcp(config: unknown): Compiled {
  if (typeof config !== "object" || config === null) throw new Error(`ext_authz: config must be an object with "policies" and "provider"`);
  let c = compiled.get(config);
  if (c === undefined) {
    const cfg = config as ExtAuthzConfig;
    checkProvider(cfg.provider);
    if (cfg.provider.protocol !== "grpc") throw new Error(`ext_authz: on TCP the provider must be gRPC (Envoy's network ext_authz speaks only gRPC)`);
    const rules = compileRbac({ policies: cfg.policies, useRemoteAddress: false, trustedHops: 0 }, true);
    if (rules.allow.length > 0 || rules.audit.length > 0) throw new Error(`ext_authz: policies must have action DENY (a match asks the provider)`);
    c = { rules, config: cfg, clients: providerClients(cfg.provider), stats: new Map() };
    compiled.set(config, c);
  }
  return c;
}

function statsOf(x: ConnectionContext, c: Compiled): ExtAuthzStats {
  const name = x.listener.name;
  const s = c.stats.get(name);
  if (s !== undefined && s.owner === x.proxy.filterStats) return s.counters;
  const counters = x.proxy.filterStats.group<ExtAuthzStats>(`tcp.${name}.ext_authz`, () => ({ ok: 0, denied: 0, error: 0, disabled: 0, failure_mode_allowed: 0 }));
  c.stats.set(name, { owner: x.proxy.filterStats, counters });
  return counters;
}

export const extAuthzNetworkFilter: NetworkFilter = {
  name: "ext_authz",
  check(config: unknown): void {
    compiledTcp(config);
  },
  onConnection(x: ConnectionContext, config: unknown): NetworkFilterStatus {
    const c = compiledTcp(config);
    const stats = statsOf(x, c);
    if (decide(c.rules, tcpAttributes(x)).allowed) {
      stats.disabled++;
      return NF_CONTINUE;
    }
    const p = c.config.provider;
    const cluster = x.proxy.runtime.clusters.get(p.cluster);
    const host = cluster === undefined ? null : pickConnectionHost(cluster, null, undefined);
    if (host === null) {
      settle(x, c, stats, { kind: "error", reason: `no healthy endpoint in ${p.cluster}` });
      return NF_STOP;
    }
    // Nothing reads the socket until tcp_proxy takes it: the client's bytes wait in the kernel.
    x.socket.pause();
    const s = x.socket;
    (c.clients.grpc ??= grpcClient(x.proxy.clock))
      .then((g) => g.checkConnection(host, {
        sourceAddress: s.remoteAddress ?? "",
        sourcePort: s.remotePort ?? 0,
        sourcePrincipal: x.peerPrincipal,
        destinationAddress: s.localAddress ?? "",
        destinationPort: s.localPort ?? x.listener.port,
        destinationPrincipal: x.proxy.mesh?.identity ?? "",
      }, p.timeoutMs, x.proxy.clock))
      .then((o) => settle(x, c, stats, o), (e: unknown) => settle(x, c, stats, { kind: "error", reason: String(e) }));
    return NF_STOP;
  },
};

function settle(x: ConnectionContext, c: Compiled, stats: ExtAuthzStats, o: CheckOutcome): void {
  if (o.kind === "ok") {
    stats.ok++;
    return resumeConnection(x);
  }
  if (o.kind === "error") stats.error++;
  if (c.config.provider.failOpen && (o.kind === "error" || o.status >= 500)) {
    stats.failure_mode_allowed++;
    return resumeConnection(x);
  }
  if (o.kind === "denied") stats.denied++;
  closeConnection(x);
}
