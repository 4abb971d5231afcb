// ExplainReport: what one proxy would do with one request, worked out from the config the control
// plane pushed to it, without sending anything: listener → route configuration → virtual host
// (and which domain chose it) → every route with its verdict → the winning route's action and
// policies → each destination cluster's settings and candidate endpoints. Pure data, so `-o json`
// prints it as is and the text view (format.ts) only lays it out.
import type { Cluster, Endpoint, FaultPolicy, Listener, ProxyConfig, Route, RouteAction, RouteOrigin, WeightedCluster } from "../model/proxy-config.ts";
import { explainMatch, requestView, RouteTable, type RequestView } from "../proxy/router/index.ts";
import { panicThresholdFor } from "../proxy/upstream/balance/host-set.ts";
import type { AuthzView } from "./authz.ts";
import type { ExplainRequest } from "./request.ts";
import { explainRateLimits, type RateLimitView } from "./rate-limits.ts";
import { formatMs } from "./policy-text.ts";

export interface RouteVerdict {
  index: number;
  name: string;
  matched: boolean;
  /** Matched, but an earlier route wins. */
  shadowed: boolean;
  failures: string[];
  origin: RouteOrigin;
}

export interface EndpointView extends Endpoint {
  /** Would the balancer pick from it (healthy, or every endpoint in panic mode)? */
  candidate: boolean;
}

export interface DestinationView {
  cluster: string;
  weight: number;
  /** Share of traffic in percent (weight / sum of weights). */
  share: number;
  /** Absent: the cluster is not in this proxy's config (the request would fail: 503 NC). */
  config?: Cluster;
  endpoints: EndpointView[];
  healthy: number;
  /** Fewer healthy endpoints than the panic threshold: the balancer spreads over all of them. */
  panic: boolean;
  /** Why no endpoint would be picked, e.g. `no endpoints (503 UH)`. */
  problem?: string;
  headers?: WeightedCluster["headers"];
}

export type Outcome =
  | { kind: "forward"; summary: string }
  | { kind: "redirect"; status: number; summary: string }
  | { kind: "direct"; status: number; summary: string }
  | { kind: "tcp"; summary: string }
  | { kind: "fail"; status: number; flag: string; summary: string };

export interface ExplainReport {
  node: { id: string; kind: string; workload: string; namespace: string };
  version: string;
  request: ExplainRequest;
  listener?: Pick<Listener, "name" | "direction" | "address" | "port" | "protocol" | "routeConfigName">;
  routeConfiguration?: string;
  virtualHost?: { name: string; domains: string[]; matchedDomain: string; matchKind: string };
  routes: RouteVerdict[];
  selected?: RouteVerdict & { action: RouteAction; headers?: Route["headers"] };
  /** The rate limits of the listener's filters this request would meet (rate-limits.ts). */
  rateLimits?: RateLimitView;
  /** The rate limits at the destination workloads' inbound listeners (RateLimit resources put theirs there). */
  destinationRateLimits?: { node: string; listener: string; limits: RateLimitView | undefined }[];
  destinations: DestinationView[];
  mirrors: DestinationView[];
  outcome: Outcome;
  /** What each destination workload's inbound authn/authz would decide (authz.ts); absent when not asked. */
  authorization?: (AuthzView | { node: string; summary: string })[];
}

export function explainRequest(config: ProxyConfig, request: ExplainRequest): ExplainReport {
  const report: ExplainReport = {
    node: { id: config.node.id, kind: config.node.kind, workload: config.node.workload, namespace: config.node.namespace },
    version: config.version,
    request,
    // Declared here so `-o json` lists the keys in pipeline order; unset ones are left out.
    listener: undefined,
    routeConfiguration: undefined,
    virtualHost: undefined,
    routes: [],
    selected: undefined,
    rateLimits: undefined,
    destinations: [],
    mirrors: [],
    outcome: { kind: "fail", status: 0, flag: "", summary: "" },
  };
  const listener = pickListener(config, request.port);
  if (listener === undefined) {
    report.outcome = { kind: "fail", status: 0, flag: "", summary: `no listener takes port ${request.port}: the connection would be refused` };
    return report;
  }
  report.listener = { name: listener.name, direction: listener.direction, address: listener.address, port: listener.port, protocol: listener.protocol, routeConfigName: listener.routeConfigName };
  if (listener.protocol === "tcp") {
    report.destinations = destinations(config, listener.tcpRoute?.clusters ?? []);
    report.outcome = { kind: "tcp", summary: `TCP listener ${listener.name}: the connection is proxied as a byte stream, no HTTP routing` };
    return report;
  }
  const rcName = listener.routeConfigName ?? "";
  const rc = config.routes.find((r) => r.name === rcName);
  report.routeConfiguration = rcName;
  if (rc === undefined) {
    report.outcome = { kind: "fail", status: 404, flag: "NR", summary: `route configuration ${JSON.stringify(rcName)} is missing from the config: 404 NR` };
    return report;
  }
  // The caller: the workload itself for a sidecar; for a gateway, some client outside.
  const view = toView(request, config.node.kind === "gateway" ? "<client address>" : config.node.ip);
  const e = explainMatch(new RouteTable(rc), view);
  if (e.virtualHost === undefined) {
    report.outcome = { kind: "fail", status: 404, flag: "NR", summary: `no virtual host of ${JSON.stringify(rcName)} has a domain matching ${JSON.stringify(request.authority)}: 404 NR` };
    return report;
  }
  const vh = e.virtualHost;
  report.virtualHost = { name: vh.virtualHost.name, domains: vh.virtualHost.domains, matchedDomain: vh.domain, matchKind: vh.kind };
  report.routes = e.routes.map((r) => ({ index: r.index, name: r.route.name, matched: r.matched, shadowed: r.shadowed, failures: r.failures, origin: r.route.origin }));
  const sel = e.selected;
  if (sel === undefined) {
    report.outcome = { kind: "fail", status: 404, flag: "NR", summary: `no route of virtual host ${vh.virtualHost.name} matches: 404 NR` };
    return report;
  }
  const verdict = report.routes[sel.index] as RouteVerdict;
  report.selected = { ...verdict, action: sel.route.action, ...(sel.route.headers ? { headers: sel.route.headers } : {}) };
  const limits = explainRateLimits(listener, sel.route, view);
  if (limits !== undefined) report.rateLimits = limits;
  const action = sel.route.action;
  if (action.kind === "redirect") {
    report.outcome = { kind: "redirect", status: action.code, summary: `redirect ${action.code}, nothing is forwarded` };
  } else if (action.kind === "direct") {
    report.outcome = { kind: "direct", status: action.status, summary: `direct response ${action.status} from the proxy, nothing is forwarded` };
  } else {
    report.destinations = destinations(config, action.clusters);
    report.mirrors = destinations(config, action.mirrors.map((m) => ({ cluster: m.cluster, weight: m.percentage })));
    const abort = action.fault?.abort;
    report.outcome = abort && abort.percentage >= 100
      ? { kind: "fail", status: abort.httpStatus ?? 200, flag: "FI", summary: `fault injection aborts every request (${abort.httpStatus !== undefined ? `HTTP ${abort.httpStatus}` : `gRPC ${abort.grpcStatus}`}): nothing is forwarded` }
      : forwardOutcome(report.destinations, action.fault);
  }
  return report;
}

function forwardOutcome(dests: readonly DestinationView[], fault: FaultPolicy | undefined): Outcome {
  const usable = dests.filter((d) => d.problem === undefined && d.share > 0);
  if (dests.every((d) => d.share <= 0)) return { kind: "fail", status: 503, flag: "NC", summary: "the route has no destination with a weight above 0: 503" };
  if (usable.length === 0) {
    const first = dests.find((d) => d.share > 0);
    return { kind: "fail", status: 503, flag: first?.config ? "UH" : "NC", summary: `every destination fails: ${first?.problem ?? ""}` };
  }
  const parts = [`forwarded: ${usable.map((d) => `${formatShare(d.share)} to ${d.cluster}`).join(", ")}`];
  // A split where some destinations cannot be served: that share of requests fails.
  for (const d of dests) if (d.problem !== undefined && d.share > 0) parts.push(`${formatShare(d.share)} would fail: ${d.cluster}: ${d.problem}`);
  if (fault?.abort) parts.push(`${fault.abort.percentage}% aborted by fault injection (${fault.abort.httpStatus !== undefined ? `HTTP ${fault.abort.httpStatus}` : `gRPC ${fault.abort.grpcStatus ?? "?"}`})`);
  if (fault?.delay) parts.push(`${fault.delay.percentage}% delayed by ${formatMs(fault.delay.fixedDelayMs)}`);
  return { kind: "forward", summary: parts.join("; ") };
}

export function formatShare(share: number): string {
  return `${Number.isInteger(share) ? share : share.toFixed(1)}%`;
}

/** Sidecars: a listener on the request's port, else the outbound HTTP-proxy listener. Gateways: the port's listener. */
function pickListener(config: ProxyConfig, port: number): Listener | undefined {
  const byPort = config.listeners.find((l) => l.direction !== "inbound" && l.port === port);
  if (byPort !== undefined || config.node.kind === "gateway") return byPort;
  return config.listeners.find((l) => l.direction === "outbound" && l.protocol === "http");
}

function toView(r: ExplainRequest, sourceIp: string): RequestView {
  return requestView({ method: r.method, path: r.path, authority: r.authority, scheme: r.scheme, port: r.port, headers: r.headers, sourceIp });
}

function destinations(config: ProxyConfig, clusters: readonly WeightedCluster[]): DestinationView[] {
  const total = clusters.reduce((s, c) => s + (c.weight > 0 ? c.weight : 0), 0);
  return clusters.map((c): DestinationView => {
    // One destination gets everything whatever its weight, as the router does.
    const share = clusters.length === 1 ? 100 : total > 0 && c.weight > 0 ? (c.weight / total) * 100 : 0;
    const cfg = config.clusters.find((x) => x.name === c.cluster);
    const eps = config.endpoints[c.cluster] ?? [];
    const healthy = eps.filter((e) => e.healthy).length;
    const panic = cfg !== undefined && eps.length > 0 && (healthy / eps.length) * 100 < panicThresholdFor(cfg);
    const view: DestinationView = {
      cluster: c.cluster,
      weight: c.weight,
      share,
      endpoints: eps.map((e) => ({ ...e, candidate: panic || e.healthy })),
      healthy,
      panic,
    };
    if (cfg !== undefined) view.config = cfg;
    if (c.headers !== undefined) view.headers = c.headers;
    if (cfg === undefined) view.problem = "cluster is not in this proxy's config (503 NC)";
    else if (cfg.discovery === "original_dst") {
      // PASSTHROUGH: the requested address itself is the endpoint.
    } else if (eps.length === 0) view.problem = "no endpoints (503 UH)";
    else if (healthy === 0 && !panic) view.problem = "no healthy endpoint (503 UH)";
    return view;
  });
}
