// Simulation: a virtual call through the config a proxy would be pushed, with no socket, in the
// style of Istio's pilot/pkg/simulation. The mesh's YAML (Services, Workloads, VirtualServices,
// DestinationRules) goes through the real snapshot builder and translate(); the resulting
// ProxyConfig is compiled as the sidecar compiles it (RouteTable, ClusterManager); then a call is
// decided step by step with the sidecar's own functions, in the sidecar's order and with its
// random draws: route (404 NR) → fault delay/abort (DI, FI) → weighted split → cluster (503 NC)
// → mirrors → host from the cluster's balancer (hash key, PASSTHROUGH; 503 UH). The answer says
// where the request would go: "GET reviews:9080/ with end-user: jason from productpage goes to
// outbound|9080|v2|reviews.default.svc.cluster.local, host 10.1.0.5:9080", and what would
// govern it there (timeout, retries). CORS preflights and protocol upgrades are not simulated.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { FakeClock } from "./fake-clock.ts";
import { seededRandom, type Random } from "../core/random.ts";
import { parseDocuments } from "../config/parse.ts";
import type { Resource } from "../model/resource.ts";
import { translate, type ProxyInput } from "../control-plane/translate/index.ts";
import type { ForwardAction, ProxyConfig, RetryPolicy, Route } from "../model/proxy-config.ts";
import type { WorkloadInstance } from "../model/registry.ts";
import { buildSnapshot, type Snapshot } from "../model/snapshot.ts";
import { pickRequestHost } from "../proxy/upstream/host-choice.ts";
import { faultDecision, mirrorDecision, pickWeightedCluster, redirectLocation, redirectStatus, requestView, RouteTable, type RequestView } from "../proxy/router/index.ts";
import { ClusterManager } from "../proxy/upstream/cluster-manager.ts";
import { hashKeyOf } from "../proxy/upstream/hash-key.ts";
import { planInstances } from "../runtime/local/plan.ts";

/** One virtual request. */
export interface Call {
  /** `http://reviews:9080/reviews/0`, or `reviews:9080/reviews/0`: authority and path. */
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** The listener it arrives on (default: the outbound listener). */
  listener?: string;
  /** Downstream peer address (consistent hash by source IP). */
  sourceIp?: string;
}

/** What the proxy would do. Fields that do not apply are absent. */
export interface CallResult {
  /** Status the proxy answers itself (404 NR, 503 NC/UH, a fault abort, direct, redirect); absent when forwarded. */
  status?: number;
  /** Response flags of a local answer or a delay: NR, NC, UH, FI, DI. */
  flags?: string;
  virtualHost?: string;
  /** Where the matched route came from: `VirtualService default/reviews http[0]` and file:line. */
  route?: string;
  /** The route's name, when it has one. */
  routeName?: string;
  cluster?: string;
  /** `address:port` of the endpoint the balancer picked. */
  host?: string;
  /** The picked endpoint's labels (its subset's version…). */
  hostLabels?: Record<string, string>;
  /** Injected delay before anything else happens. */
  delayMs?: number;
  /** Route timeout (0 = none, Istio's default). */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Clusters the request would be mirrored to. */
  mirrors?: readonly string[];
  /** Redirect target. */
  location?: string;
}

/** A mesh loaded from YAML files or directories (every .yaml/.yml below a directory). */
export class Mesh {
  readonly resources: Resource[];
  readonly instances: WorkloadInstance[];
  readonly snapshot: Snapshot;

  /**
   * Workloads (amime.dev Workload resources) become instances at 10.1.0.1, 10.1.0.2, … in file
   * order, listening on their declared container ports, as pods would; `instances` adds more.
   * `yaml` adds inline documents after the files (a later resource of the same name wins).
   */
  constructor(paths: readonly string[], o: { yaml?: readonly string[]; instances?: readonly WorkloadInstance[] } = {}) {
    this.resources = [];
    for (const p of paths) for (const f of yamlFiles(p)) this.resources.push(...parse(readFileSync(f, "utf8"), f));
    (o.yaml ?? []).forEach((text, i) => this.resources.push(...parse(text, `inline-${i}.yaml`)));
    const instances = o.instances ?? [];
    let n = 0;
    const planned: WorkloadInstance[] = planInstances(this.resources).map((plan) => ({
      name: plan.name,
      namespace: plan.namespace,
      labels: { ...plan.labels },
      serviceAccount: plan.spec.serviceAccount,
      address: `10.1.0.${++n}`,
      ready: true,
    }));
    this.instances = [...planned, ...instances];
    this.snapshot = buildSnapshot(this.resources, { services: [], instances: this.instances });
  }

  /** The sidecar of the first instance of `workload` (e.g. `productpage-v1`). */
  sidecar(workload: string, namespace = "default"): ProxyInput {
    const i = this.instances.find((x) => x.namespace === namespace && (x.name === workload || x.name.startsWith(`${workload}-`)));
    if (i === undefined) throw new Error(`simulation: no instance of workload ${namespace}/${workload}`);
    return {
      id: `sidecar~${i.name}.${namespace}`,
      kind: "sidecar",
      workload,
      namespace,
      labels: { ...i.labels },
      serviceAccount: i.serviceAccount,
      trustDomain: "cluster.local",
      ip: i.address,
    };
  }

  /** The config `workload`'s sidecar would be pushed, compiled, with seeded randomness. */
  simulate(workload: string, o: { seed?: number; namespace?: string } = {}): Simulation {
    return new Simulation(translate(this.snapshot, this.sidecar(workload, o.namespace)), seededRandom(o.seed ?? 1));
  }
}

export class Simulation {
  readonly config: ProxyConfig;
  readonly random: Random;
  private readonly tables = new Map<string, RouteTable>();
  private readonly clusters: ClusterManager;

  constructor(config: ProxyConfig, random: Random) {
    this.config = config;
    this.random = random;
    for (const rc of config.routes) this.tables.set(rc.name, new RouteTable(rc));
    // One Random for routing and balancers, as the sidecar's ProxyContext has; no timer fires.
    this.clusters = new ClusterManager(config, random, new FakeClock());
  }

  call(c: Call): CallResult {
    const listener = c.listener === undefined ? this.config.listeners.find((l) => l.direction === "outbound" && l.protocol === "http") : this.config.listeners.find((l) => l.name === c.listener);
    if (listener === undefined) throw new Error(`simulation: no listener ${c.listener ?? "(outbound http)"}`);
    const { authority, path } = splitUrl(c.url);
    const req = requestView({ method: c.method ?? "GET", authority, path, port: listener.port, headers: c.headers ?? {}, sourceIp: c.sourceIp ?? "10.1.0.100" });
    const found = this.tables.get(listener.routeConfigName ?? listener.name)?.match(req);
    if (found === undefined || found.kind !== "route") return { status: 404, flags: "NR" };
    const route = found.route;
    const out: CallResult = { virtualHost: found.virtualHost.name, route: describeOrigin(route) };
    if (route.name !== "") out.routeName = route.name;
    const action = route.action;
    if (action.kind === "direct") return { ...out, status: action.status };
    if (action.kind === "redirect") return { ...out, status: redirectStatus(action), location: redirectLocation(req, route.match, action) };
    return this.forward(out, action, req, listener.port);
  }

  /**
   * Counts over `n` identical calls (weighted splits, fault percentages, balancing), keyed by
   * `by` (default: the cluster, or `status flags` for a local answer).
   */
  distribution(c: Call, n: number, by: (r: CallResult) => string = (r) => r.cluster ?? `${r.status ?? 0} ${r.flags ?? ""}`.trim()): Record<string, number> {
    const m: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const key = by(this.call(c));
      m[key] = (m[key] ?? 0) + 1;
    }
    return m;
  }

  private forward(out: CallResult, action: ForwardAction, req: RequestView, listenerPort: number): CallResult {
    out.timeoutMs = action.timeoutMs;
    out.retry = action.retry;
    // The sidecar's order (pipeline): fault, then the split, mirrors, then the balancer.
    if (action.fault !== undefined) {
      const fault = faultDecision(action.fault, this.random);
      if (fault.delayMs > 0) {
        out.delayMs = fault.delayMs;
        out.flags = "DI";
      }
      if (fault.abortStatus !== undefined || fault.abortGrpcStatus !== undefined) {
        out.flags = out.flags === undefined ? "FI" : `${out.flags},FI`;
        out.status = fault.abortStatus ?? 200;
        return out;
      }
    }
    const wc = pickWeightedCluster(action.clusters, this.random);
    const cluster = wc === undefined ? undefined : this.clusters.get(wc.cluster);
    if (wc !== undefined) out.cluster = wc.cluster;
    if (cluster === undefined) return { ...out, status: 503, flags: "NC" };
    if (action.mirrors.length > 0) out.mirrors = mirrorDecision(action.mirrors, this.random);
    const key = cluster.config.lb.hashKey;
    const hash = key === undefined ? undefined : hashKeyOf(key, req, { sourceIp: req.sourceIp, remoteAddress: `${req.sourceIp}:40000`, localAddress: `127.0.0.1:${listenerPort}` });
    const host = pickRequestHost(cluster, req.authority, listenerPort, hash, null);
    if (host === null) return { ...out, status: 503, flags: "UH" };
    out.host = host.key;
    out.hostLabels = host.endpoint.labels;
    return out;
  }
}

function describeOrigin(r: Route): string {
  const o = r.origin;
  if (o === undefined) return "";
  const where = o.ruleIndex < 0 ? "" : ` http[${o.ruleIndex}]${o.matchIndex < 0 ? "" : `.match[${o.matchIndex}]`}`;
  return `${o.resource}${where}`;
}

function splitUrl(url: string): { authority: string; path: string } {
  const rest = url.replace(/^https?:\/\//, "");
  const slash = rest.indexOf("/");
  return slash < 0 ? { authority: rest, path: "/" } : { authority: rest.slice(0, slash), path: rest.slice(slash) };
}

function yamlFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((f) => (/\.ya?ml$/.test(f) || statSync(join(path, f)).isDirectory() ? yamlFiles(join(path, f)) : []));
}

function parse(text: string, file: string): Resource[] {
  const { resources, diagnostics } = parseDocuments(text, file);
  const errors = diagnostics.filter((d) => d.level === "error");
  if (errors.length > 0) throw new Error(`simulation: ${file}: ${errors.map((d) => d.message).join("; ")}`);
  return resources;
}
