// Per-kind table columns for `amime get`, after the printer columns Istio's CRDs and kubectl show
// (VirtualService: GATEWAYS, HOSTS; ServiceEntry: HOSTS, LOCATION, RESOLUTION…), without AGE: a
// file-based mesh has no creation times worth showing. Readers are defensive: the stored body
// passed validation, but a table must never throw on an odd one.
import { labels, list } from "../../core/text-table.ts";

export interface KindColumns {
  headers: readonly string[];
  row(spec: Record<string, unknown>): string[];
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const strs = (v: unknown): string[] => arr(v).map(str).filter((s) => s !== "");
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, str(x)]));
const selector = (spec: Record<string, unknown>): string => labels(strMap(obj(spec.selector).matchLabels ?? obj(spec.workloadSelector).labels));

const COLUMNS: Record<string, KindColumns> = {
  VirtualService: {
    headers: ["HOSTS", "GATEWAYS", "HTTP ROUTES"],
    row: (s) => [list(strs(s.hosts)), list(strs(s.gateways), "mesh"), String(arr(s.http).length)],
  },
  DestinationRule: {
    headers: ["HOST", "SUBSETS", "LOAD BALANCER"],
    row: (s) => [str(s.host), list(arr(s.subsets).map((x) => str(obj(x).name))), loadBalancer(obj(s.trafficPolicy))],
  },
  Gateway: {
    headers: ["SELECTOR", "SERVERS"],
    row: (s) => [labels(strMap(s.selector)), list(arr(s.servers).map((x) => {
      const port = obj(obj(x).port);
      return `${str(port.number)}/${str(port.protocol)}:${strs(obj(x).hosts).join("|")}`;
    }))],
  },
  ServiceEntry: {
    headers: ["HOSTS", "LOCATION", "RESOLUTION"],
    row: (s) => [list(strs(s.hosts)), str(s.location) || "MESH_EXTERNAL", str(s.resolution) || "NONE"],
  },
  Sidecar: {
    headers: ["SELECTOR", "EGRESS HOSTS"],
    row: (s) => [selector(s), list(arr(s.egress).flatMap((e) => strs(obj(e).hosts)))],
  },
  WorkloadEntry: {
    headers: ["ADDRESS", "LABELS"],
    row: (s) => [str(s.address) || "<none>", labels(strMap(s.labels))],
  },
  PeerAuthentication: {
    headers: ["MODE", "SELECTOR"],
    row: (s) => [str(obj(s.mtls).mode) || "UNSET", selector(s)],
  },
  RequestAuthentication: {
    headers: ["ISSUERS", "SELECTOR"],
    row: (s) => [list(arr(s.jwtRules).map((r) => str(obj(r).issuer))), selector(s)],
  },
  AuthorizationPolicy: {
    headers: ["ACTION", "RULES", "SELECTOR"],
    row: (s) => [str(s.action) || "ALLOW", String(arr(s.rules).length), selector(s)],
  },
  Telemetry: {
    headers: ["SELECTOR"],
    row: (s) => [selector(s)],
  },
  EnvoyFilter: {
    headers: ["PATCHES", "SELECTOR"],
    row: (s) => [String(arr(s.configPatches).length), selector(s)],
  },
  WasmPlugin: {
    headers: ["URL", "PHASE", "SELECTOR"],
    row: (s) => [str(s.url), str(s.phase) || "<none>", selector(s)],
  },
  RateLimit: {
    headers: ["RULES", "SCOPE", "TARGET"],
    row: (s) => {
      const scopes = [...new Set(arr(s.rules).map((r) => str((r as Record<string, unknown>).scope) || "local"))];
      return [String(arr(s.rules).length), scopes.join(",") || "<none>", str(s.service) || selector(s)];
    },
  },
  ProxyConfig: {
    headers: ["CONCURRENCY", "SELECTOR"],
    row: (s) => [str(s.concurrency) || "<none>", selector(s)],
  },
  Service: {
    headers: ["TYPE", "PORTS", "SELECTOR"],
    row: (s) => [str(s.type) || "ClusterIP", list(arr(s.ports).map((p) => {
      const port = obj(p);
      const name = str(port.name);
      return `${str(port.port)}${name ? `/${name}` : ""}`;
    })), labels(strMap(s.selector))],
  },
  Workload: {
    headers: ["REPLICAS", "PORTS", "COMMAND"],
    row: (s) => [s.replicas === undefined ? "1" : str(s.replicas), list(arr(s.ports).map((p) => str(obj(p).containerPort))), [...strs(s.command), ...strs(s.args)].join(" ") || "<none>"],
  },
};

const NO_COLUMNS: KindColumns = { headers: [], row: () => [] };

export function columnsFor(kind: string): KindColumns {
  return COLUMNS[kind] ?? NO_COLUMNS;
}

function loadBalancer(policy: Record<string, unknown>): string {
  const lb = obj(policy.loadBalancer);
  if (typeof lb.simple === "string") return lb.simple;
  const hash = obj(lb.consistentHash);
  if (Object.keys(hash).length > 0) return "CONSISTENT_HASH";
  return "<default>";
}
