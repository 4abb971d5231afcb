// Services and the service graph from metric deltas.
//   services: one row per destination service × workload × version, from what the server side
//     reported (reporter=destination); a service whose servers have no sidecar falls back to
//     what its clients reported.
//   graph: nodes are services and app versions; edges go from a calling version to the service
//     (client view, reporter=source) and from the service to each version serving it; requests
//     from outside the mesh (no client sidecar) appear as edges from "unknown". TCP traffic (Istio's
//     TCP metrics) makes edges of the same shape with protocol "tcp", carrying connections and
//     bytes per second instead of requests (their request signals are zero).
import { signals, type Delta, type Signals } from "./golden-signals.ts";
import { tcpSignals, type TcpDelta, type TcpSignals } from "./tcp-signals.ts";

export interface ServiceRow extends Signals {
  service: string;
  namespace: string;
  workload: string;
  app: string;
  version: string;
}

export interface GraphNode {
  id: string;
  kind: "service" | "version" | "unknown";
  namespace: string;
  /** Service host for service nodes; app name for version nodes. */
  name: string;
  version?: string;
  /** Requests answered (version nodes) or received (service nodes) per second. */
  rps: number;
  errorRate: number;
}

export interface GraphEdge extends Signals {
  source: string;
  target: string;
  protocol: string;
  /** Traffic on this edge used mutual TLS (as the server side reported). */
  mtls: boolean;
  /** TCP edges: connections and bytes per second. */
  tcp?: TcpSignals;
}

export interface Graph {
  windowMs: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const UNKNOWN = "unknown";

interface Labelled {
  labels: Record<string, string>;
}

function group<T extends Labelled>(list: readonly T[], key: (d: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const d of list) {
    const k = key(d);
    let g = m.get(k);
    if (g === undefined) m.set(k, (g = []));
    g.push(d);
  }
  return m;
}

const l = (d: Labelled, name: string): string => d.labels[name] ?? UNKNOWN;

export function serviceRows(all: readonly Delta[]): ServiceRow[] {
  const dest = all.filter((d) => d.labels.reporter === "destination");
  const served = new Set(dest.map((d) => l(d, "destination_service")));
  const src = all.filter((d) => d.labels.reporter === "source" && !served.has(l(d, "destination_service")) && l(d, "destination_service") !== UNKNOWN);
  const rows: ServiceRow[] = [];
  for (const g of group([...dest, ...src], (d) => [l(d, "destination_service"), l(d, "destination_workload"), l(d, "destination_version")].join("\u001f")).values()) {
    const d = g[0] as Delta;
    rows.push({
      service: l(d, "destination_service"),
      namespace: l(d, "destination_service_namespace"),
      workload: l(d, "destination_workload"),
      app: l(d, "destination_app"),
      version: l(d, "destination_version"),
      ...signals(g),
    });
  }
  return rows.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

const versionId = (ns: string, app: string, version: string): string => `version:${ns}/${app}/${version}`;
const serviceId = (host: string): string => `service:${host}`;

type NodeAdder = (id: string, n: Omit<GraphNode, "id" | "rps" | "errorRate">) => void;

export function buildGraph(all: readonly Delta[], windowMs: number, tcp: readonly TcpDelta[] = []): Graph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const mtlsPairs = new Set<string>();
  for (const d of [...all, ...tcp]) {
    if (d.labels.reporter === "destination" && d.labels.connection_security_policy === "mutual_tls") mtlsPairs.add(`${l(d, "source_workload")}\u001f${l(d, "destination_service")}`);
  }
  const node: NodeAdder = (id, n) => {
    if (!nodes.has(id)) nodes.set(id, { id, ...n, rps: 0, errorRate: 0 });
  };
  const callerMtls = (d: Labelled): boolean => mtlsPairs.has(`${l(d, "source_workload")}\u001f${l(d, "destination_service")}`);
  trafficEdges(all, (d) => [l(d, "request_protocol")], node, (g, d, source, target, serving) => {
    const s = signals(g);
    if (serving) {
      const n = nodes.get(target) as GraphNode;
      const total = n.rps + s.rps;
      n.errorRate = total > 0 ? Math.round(((n.errorRate * n.rps + s.errorRate * s.rps) / total) * 10000) / 10000 : 0;
      n.rps = Math.round(total * 1000) / 1000;
    }
    edges.push({ source, target, protocol: l(d, "request_protocol"), mtls: serving ? d.labels.connection_security_policy === "mutual_tls" : callerMtls(d), ...s });
  });
  // TCP: connections and bytes per second instead of requests.
  trafficEdges(tcp, () => [], node, (g, d, source, target, serving) => {
    edges.push({ source, target, protocol: "tcp", mtls: serving ? g.some((x) => x.labels.connection_security_policy === "mutual_tls") : callerMtls(d), ...ZERO, tcp: tcpSignals(g) });
  });
  for (const e of edges) {
    const t = nodes.get(e.target);
    if (t !== undefined && t.kind === "service") {
      const total = t.rps + e.rps;
      t.errorRate = total > 0 ? Math.round(((t.errorRate * t.rps + e.errorRate * e.rps) / total) * 10000) / 10000 : 0;
      t.rps = Math.round(total * 1000) / 1000;
    }
  }
  return { windowMs, nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), edges };
}

const ZERO: Signals = { requests: 0, rps: 0, errors: 0, errorRate: 0, p50: null, p90: null, p95: null, p99: null };

/**
 * The edges of one kind of traffic, each group of reports handed to `edge` with its ends: caller
 * version → service (the client's view, or the server's for callers without a sidecar), then
 * service → version (`serving`: the server's view when there is one, else the client's). `extraKey`:
 * labels beyond the ends that keep edges apart (HTTP: the protocol).
 */
function trafficEdges<D extends Labelled>(all: readonly D[], extraKey: (d: D) => string[], node: NodeAdder, edge: (g: D[], d: D, source: string, target: string, serving: boolean) => void): void {
  const client = all.filter((d) => d.labels.reporter === "source");
  const clientSources = new Set(client.map((d) => l(d, "source_workload")));
  // Server-side reports whose caller had no sidecar (or is outside the mesh).
  const external = all.filter((d) => d.labels.reporter === "destination" && (l(d, "source_workload") === UNKNOWN || !clientSources.has(l(d, "source_workload"))));
  const served = new Set(all.filter((d) => d.labels.reporter === "destination").map((d) => l(d, "destination_service")));
  for (const [, g] of group([...client, ...external], (d) => [l(d, "source_workload_namespace"), l(d, "source_app"), l(d, "source_version"), l(d, "destination_service"), ...extraKey(d)].join("\u001f"))) {
    const d = g[0] as D;
    const svc = l(d, "destination_service");
    const srcApp = l(d, "source_app");
    const from = srcApp === UNKNOWN ? "unknown" : versionId(l(d, "source_workload_namespace"), srcApp, l(d, "source_version"));
    if (from === "unknown") node(from, { kind: "unknown", namespace: UNKNOWN, name: UNKNOWN });
    else node(from, { kind: "version", namespace: l(d, "source_workload_namespace"), name: srcApp, version: l(d, "source_version") });
    node(serviceId(svc), { kind: "service", namespace: l(d, "destination_service_namespace"), name: svc });
    edge(g, d, from, serviceId(svc), false);
  }
  const serving = all.filter((d) => (d.labels.reporter === "destination" ? true : !served.has(l(d, "destination_service"))) && l(d, "destination_service") !== UNKNOWN);
  for (const [, g] of group(serving, (d) => [l(d, "destination_service"), l(d, "destination_workload_namespace"), l(d, "destination_app"), l(d, "destination_version"), ...extraKey(d)].join("\u001f"))) {
    const d = g[0] as D;
    const svc = l(d, "destination_service");
    const to = versionId(l(d, "destination_workload_namespace"), l(d, "destination_app"), l(d, "destination_version"));
    node(serviceId(svc), { kind: "service", namespace: l(d, "destination_service_namespace"), name: svc });
    node(to, { kind: "version", namespace: l(d, "destination_workload_namespace"), name: l(d, "destination_app"), version: l(d, "destination_version") });
    edge(g, d, serviceId(svc), to, true);
  }
}
