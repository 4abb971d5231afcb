// The service graph as the dashboard draws it (Kiali's versioned-app graph): the control plane's
// telemetry graph (service nodes, app-version nodes, edges with rps / error rate / latency) turned
// into graph-library elements — every version node inside a box for its app, positions from a
// layered layout that depends only on the graph's shape and names (so a refresh with new rates
// moves nothing), edge colour from the error rate and width from the request rate; TCP edges carry
// connections/s and bytes/s instead (no errors, no latency), width from the bytes. Pure: runs in
// the browser (served with its types stripped) and in unit tests.
import type { Graph, GraphEdge, GraphNode } from "../../control-plane/telemetry/graph.ts";

export type Health = "none" | "healthy" | "degraded" | "failing";

/** Kiali's default request-health tolerances for 5xx: any error degrades, 10 % or more fails. */
export const DEGRADED_AT = 0;
export const FAILING_AT = 0.1;

export const COLOURS: Record<Health, string> = { none: "#8a8d90", healthy: "#3e8635", degraded: "#f0ab00", failing: "#c9190b" };

export function healthOf(rps: number, errorRate: number): Health {
  if (rps <= 0) return "none";
  if (errorRate >= FAILING_AT) return "failing";
  if (errorRate > DEGRADED_AT) return "degraded";
  return "healthy";
}

export interface NodeElement {
  data: {
    id: string;
    label: string;
    kind: GraphNode["kind"] | "app";
    namespace: string;
    parent?: string;
    /** Service host, or app name. */
    name: string;
    version?: string;
    rps: number;
    errorRate: number;
    health: Health;
    colour: string;
  };
  position?: { x: number; y: number };
}

export interface EdgeElement {
  data: {
    id: string;
    source: string;
    target: string;
    rps: number;
    errorRate: number;
    p50: number | null;
    p95: number | null;
    p99: number | null;
    protocol: string;
    mtls: boolean;
    /** TCP edges: connections opened per second and bytes per second (both directions); null on HTTP edges. */
    cps: number | null;
    bps: number | null;
    /** What the traffic dots' density follows: rps, or for TCP the larger of connections/s and KiB/s. */
    dotRate: number;
    health: Health;
    colour: string;
    width: number;
    label: string;
  };
}

export interface GraphElements {
  nodes: NodeElement[];
  edges: EdgeElement[];
}

export const COLUMN_GAP = 220;
export const ROW_GAP = 90;

const fmtRate = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** `1.25 rps · 2.0% · p95 12ms` (what the edge says on the graph). */
export function edgeLabel(e: { rps: number; errorRate: number; p95: number | null; mtls: boolean }): string {
  const parts = [`${fmtRate(e.rps)} rps`];
  if (e.errorRate > 0) parts.push(`${(e.errorRate * 100).toFixed(1)}%`);
  if (e.p95 !== null) parts.push(`p95 ${e.p95 >= 100 ? e.p95.toFixed(0) : e.p95.toFixed(1)}ms`);
  return (e.mtls ? "mTLS · " : "") + parts.join(" · ");
}

/** `1.2 KiB/s` (bytes per second, binary units). */
export function fmtBytesRate(bps: number): string {
  if (bps < 1024) return `${bps >= 100 ? bps.toFixed(0) : bps.toFixed(1)} B/s`;
  if (bps < 1024 * 1024) return `${fmtRate(bps / 1024)} KiB/s`;
  return `${fmtRate(bps / 1024 / 1024)} MiB/s`;
}

/** `mTLS · 0.50 conn/s · 1.20 KiB/s` (what a TCP edge says on the graph). */
export function tcpEdgeLabel(e: { cps: number; bps: number; mtls: boolean }): string {
  return (e.mtls ? "mTLS · " : "") + `${fmtRate(e.cps)} conn/s · ${fmtBytesRate(e.bps)}`;
}

/** A TCP edge's dot rate: one dot-unit per new connection per second or per KiB/s, whichever is more (a long connection still shows its bytes moving). */
export function tcpDotRate(cps: number, bps: number): number {
  return Math.max(cps, bps / 1024);
}

/** Line width grows with the log of the rate: 1 px idle, about 7 px at 1,000 rps. */
export function edgeWidth(rps: number): number {
  return rps <= 0 ? 1 : Math.round((1.5 + Math.log10(1 + rps) * 1.8) * 10) / 10;
}

/** The edges a graph keeps for a namespace filter: those that touch a node of the namespace. */
export function filterNamespace(g: Graph, namespace: string | null): Graph {
  if (namespace === null || namespace === "") return g;
  const keep = new Set(g.nodes.filter((n) => n.namespace === namespace).map((n) => n.id));
  const edges = g.edges.filter((e) => keep.has(e.source) || keep.has(e.target));
  const used = new Set(edges.flatMap((e) => [e.source, e.target]));
  return { ...g, nodes: g.nodes.filter((n) => keep.has(n.id) || used.has(n.id)), edges };
}

/** The namespaces a graph's nodes are in (for the filter's choices). */
export function namespacesOf(g: Graph): string[] {
  return [...new Set(g.nodes.map((n) => n.namespace).filter((n) => n !== "unknown"))].sort();
}

/**
 * Columns by longest path from the roots (nodes nothing calls), rows in name order within a
 * column; a cycle is cut where it closes. Deterministic for the same node and edge set.
 */
export function layeredLayout(nodeIds: readonly string[], edges: readonly { source: string; target: string }[]): Map<string, { x: number; y: number }> {
  const ids = [...nodeIds].sort();
  const out = new Map<string, string[]>();
  const indeg = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const e of edges) {
    if (!indeg.has(e.source) || !indeg.has(e.target) || e.source === e.target) continue;
    let l = out.get(e.source);
    if (l === undefined) out.set(e.source, (l = []));
    if (!l.includes(e.target)) {
      l.push(e.target);
      indeg.set(e.target, (indeg.get(e.target) ?? 0) + 1);
    }
  }
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string, d: number): void => {
    if (visiting.has(id)) return; // a cycle: stop here
    if ((depth.get(id) ?? -1) >= d) return;
    depth.set(id, d);
    visiting.add(id);
    for (const t of [...(out.get(id) ?? [])].sort()) visit(t, d + 1);
    visiting.delete(id);
  };
  const roots = ids.filter((id) => indeg.get(id) === 0);
  for (const r of roots.length > 0 ? roots : ids.slice(0, 1)) visit(r, 0);
  for (const id of ids) if (!depth.has(id)) visit(id, 0);
  const columns = new Map<number, string[]>();
  for (const id of ids) {
    const d = depth.get(id) ?? 0;
    let c = columns.get(d);
    if (c === undefined) columns.set(d, (c = []));
    c.push(id);
  }
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, col] of columns) col.forEach((id, i) => pos.set(id, { x: d * COLUMN_GAP, y: (i - (col.length - 1) / 2) * ROW_GAP }));
  return pos;
}

const appId = (ns: string, app: string): string => `app:${ns}/${app}`;

function nodeLabel(n: GraphNode): string {
  if (n.kind === "service") return n.name.split(".")[0] ?? n.name;
  if (n.kind === "version") return n.version ?? "unknown";
  return n.name;
}

/** The elements to draw for a telemetry graph (optionally one namespace's part of it). */
export function graphElements(g: Graph, namespace: string | null = null): GraphElements {
  const shown = filterNamespace(g, namespace);
  const pos = layeredLayout(shown.nodes.map((n) => n.id), shown.edges);
  const nodes: NodeElement[] = [];
  const apps = new Map<string, NodeElement>();
  for (const n of shown.nodes) {
    const health = n.kind === "service" && n.rps <= 0 ? "none" : healthOf(n.rps, n.errorRate);
    const el: NodeElement = {
      data: { id: n.id, label: nodeLabel(n), kind: n.kind, namespace: n.namespace, name: n.name, rps: n.rps, errorRate: n.errorRate, health, colour: COLOURS[health] },
      position: pos.get(n.id) ?? { x: 0, y: 0 },
    };
    if (n.version !== undefined) el.data.version = n.version;
    if (n.kind === "version") {
      const id = appId(n.namespace, n.name);
      el.data.parent = id;
      const app = apps.get(id);
      if (app === undefined) {
        apps.set(id, { data: { id, label: n.name, kind: "app", namespace: n.namespace, name: n.name, rps: n.rps, errorRate: n.errorRate, health, colour: COLOURS[health] } });
      } else {
        const total = app.data.rps + n.rps;
        app.data.errorRate = total > 0 ? (app.data.errorRate * app.data.rps + n.errorRate * n.rps) / total : 0;
        app.data.rps = total;
        app.data.health = healthOf(total, app.data.errorRate);
        app.data.colour = COLOURS[app.data.health];
      }
    }
    nodes.push(el);
  }
  const edges = shown.edges.map((e: GraphEdge): EdgeElement => {
    if (e.tcp !== undefined) {
      const bps = Math.round((e.tcp.sentBps + e.tcp.receivedBps) * 1000) / 1000;
      const rate = tcpDotRate(e.tcp.cps, bps);
      const health: Health = rate > 0 ? "healthy" : "none";
      return {
        data: {
          id: `${e.source}->${e.target}|${e.protocol}`,
          source: e.source,
          target: e.target,
          rps: 0,
          errorRate: 0,
          p50: null,
          p95: null,
          p99: null,
          protocol: e.protocol,
          mtls: e.mtls,
          cps: e.tcp.cps,
          bps,
          dotRate: rate,
          health,
          colour: COLOURS[health],
          width: edgeWidth(rate),
          label: tcpEdgeLabel({ cps: e.tcp.cps, bps, mtls: e.mtls }),
        },
      };
    }
    const health = healthOf(e.rps, e.errorRate);
    return {
      data: {
        id: `${e.source}->${e.target}|${e.protocol}`,
        source: e.source,
        target: e.target,
        rps: e.rps,
        errorRate: e.errorRate,
        p50: e.p50,
        p95: e.p95,
        p99: e.p99,
        protocol: e.protocol,
        mtls: e.mtls,
        cps: null,
        bps: null,
        dotRate: e.rps,
        health,
        colour: COLOURS[health],
        width: edgeWidth(e.rps),
        label: edgeLabel({ rps: e.rps, errorRate: e.errorRate, p95: e.p95, mtls: e.mtls }),
      },
    };
  });
  return { nodes: [...[...apps.values()].sort((a, b) => (a.data.id < b.data.id ? -1 : 1)), ...nodes], edges };
}
