// MeshIndex: what the loaded resources say about the mesh — services and the hosts they answer to,
// the workloads behind them, DestinationRule subsets, gateways and PeerAuthentications — so each
// check asks "does X exist?" instead of walking every resource again.
import type { FieldPath, Resource } from "../../model/resource.ts";
import type { ExtensionProvider, MeshConfig } from "../../model/specs/mesh-config.ts";
import { DEFAULT_DOMAIN_SUFFIX, expandNamespaced, hostMatches, isWildcard, resolveHost, visibleFrom } from "./hosts.ts";
import { arr, num, obj, selects, specOf, str, strList, strMap } from "./json.ts";

export interface IndexOptions {
  /** Namespace of resources that do not name one. */
  namespace: string;
  /** Where mesh-wide policies live (Istio's root namespace). */
  rootNamespace: string;
  domainSuffix: string;
  /** The mesh's MeshConfig (`--mesh-config`), for extension provider names; absent: Istio's defaults. */
  meshConfig?: MeshConfig;
  /** Providers a runtime adds (e.g. `amime up`'s `amime-tracing`). */
  extraProviders?: readonly ExtensionProvider[];
}

export const DEFAULT_INDEX_OPTIONS: IndexOptions = { namespace: "default", rootNamespace: "istio-system", domainSuffix: DEFAULT_DOMAIN_SUFFIX };

export interface WorkloadInfo {
  kind: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** Instances it runs; 0 means none (a scaled-down Deployment or Workload). */
  replicas: number;
  resource: Resource;
}

export interface ServiceInfo {
  /** FQDN (Service) or the host as written in a ServiceEntry, possibly a wildcard. */
  host: string;
  namespace: string;
  kind: "Service" | "ServiceEntry";
  resource: Resource;
  exportTo: string[];
  /** Labels selecting the workloads behind it; undefined when none (external service, manual endpoints). */
  selector?: Record<string, string>;
  /** ServiceEntry endpoints, as workloads of this service. */
  endpoints: WorkloadInfo[];
  ports: { number: number; name?: string; targetPort?: number | string }[];
}

export interface SubsetInfo {
  name: string;
  labels: Record<string, string>;
  /** Path of the subset in its DestinationRule. */
  path: FieldPath;
  rule: DestinationRuleInfo;
}

export interface DestinationRuleInfo {
  resource: Resource;
  namespace: string;
  /** The host as written. */
  rawHost: string;
  /** The host resolved in the rule's namespace. */
  host: string;
  exportTo: string[];
  subsets: SubsetInfo[];
}

export interface PeerAuthenticationInfo {
  resource: Resource;
  namespace: string;
  /** Undefined for namespace- or mesh-wide policies. */
  selector?: Record<string, string>;
  /** STRICT | PERMISSIVE | DISABLE | UNSET, as written (upper-cased); undefined when absent. */
  mode?: string;
  portModes: Record<string, string>;
}

/** The mTLS mode a workload's sidecar accepts and the policy that decided it. */
export interface EffectiveMtls {
  mode: string;
  policy?: PeerAuthenticationInfo;
}

/** Kinds whose pods carry labels a Service or subset can select, besides Workload and WorkloadEntry. */
const POD_TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

export class MeshIndex {
  readonly options: IndexOptions;
  readonly services: ServiceInfo[] = [];
  readonly workloads: WorkloadInfo[] = [];
  readonly destinationRules: DestinationRuleInfo[] = [];
  readonly peerAuthentications: PeerAuthenticationInfo[] = [];
  /** Gateways by `namespace/name`. */
  readonly gateways = new Map<string, Resource>();
  private readonly byHost = new Map<string, ServiceInfo[]>();

  constructor(resources: readonly Resource[], options: Partial<IndexOptions> = {}) {
    this.options = { ...DEFAULT_INDEX_OPTIONS, ...options };
    for (const r of resources) this.add(r);
    // Rules are read before every Service is known; resolve `reviews.default`-style hosts once all are.
    for (const d of this.destinationRules) d.host = this.canonicalHost(d.rawHost, d.namespace);
  }

  namespaceOf(r: Resource): string {
    return r.metadata.namespace || this.options.namespace;
  }

  /** Whether the input says anything about workloads; without any, workload checks have nothing to go on. */
  get knowsWorkloads(): boolean {
    return this.workloads.length > 0 || this.services.some((s) => s.endpoints.length > 0);
  }

  /** Services answering to `host` as written in a resource of namespace `fromNs` (exact names first, then wildcards). */
  findServices(host: string, fromNs: string): ServiceInfo[] {
    const exact = this.exactServices(resolveHost(host, fromNs, this.options.domainSuffix), fromNs);
    if (exact.length > 0) return exact;
    const expanded = expandNamespaced(host, this.options.domainSuffix);
    if (expanded) {
      const viaDns = this.exactServices(expanded, fromNs);
      if (viaDns.length > 0) return viaDns;
    }
    const fqdn = resolveHost(host, fromNs, this.options.domainSuffix);
    return this.services.filter((s) => isWildcard(s.host) && hostMatches(s.host, fqdn) && visibleFrom(s.exportTo, s.namespace, fromNs));
  }

  /** The FQDN a host written in `fromNs` stands for: the matching Service's name when `reviews.default` names one. */
  canonicalHost(host: string, fromNs: string): string {
    const fqdn = resolveHost(host, fromNs, this.options.domainSuffix);
    if (this.byHost.has(fqdn)) return fqdn;
    const expanded = expandNamespaced(host, this.options.domainSuffix);
    return expanded && this.byHost.has(expanded) ? expanded : fqdn;
  }

  /** DestinationRules that apply to `fqdn` for a client in `fromNs` (exact host or a wildcard covering it). */
  destinationRulesFor(fqdn: string, fromNs: string): DestinationRuleInfo[] {
    return this.destinationRules.filter((d) => hostMatches(d.host, fqdn) && visibleFrom(d.exportTo, d.namespace, fromNs));
  }

  subsetsFor(fqdn: string, fromNs: string): SubsetInfo[] {
    return this.destinationRulesFor(fqdn, fromNs).flatMap((d) => d.subsets);
  }

  /** Workloads behind a service; undefined when the config cannot tell (no selector and no endpoints). */
  workloadsOf(s: ServiceInfo): WorkloadInfo[] | undefined {
    if (s.selector === undefined) return s.endpoints.length > 0 ? s.endpoints : undefined;
    const selector = s.selector;
    return [...this.workloads.filter((w) => w.namespace === s.namespace && selects(selector, w.labels)), ...s.endpoints];
  }

  /**
   * A gateway reference as a VirtualService in `vsNs` writes it: `mesh`, `name`, `ns/name` or the legacy
   * `name.ns.svc.cluster.local`. Returns the canonical key (`mesh` or `ns/name`).
   */
  gatewayKey(ref: string, vsNs: string): string {
    if (ref === "mesh") return "mesh";
    const slash = ref.indexOf("/");
    if (slash >= 0) return `${ref.slice(0, slash)}/${ref.slice(slash + 1)}`;
    const parts = ref.split(".");
    if (parts.length > 2 && parts[2] === "svc") return `${parts[1]}/${parts[0]}`;
    return `${vsNs}/${ref}`;
  }

  /** The mTLS mode a workload accepts: workload policy, else namespace policy, else mesh policy, else PERMISSIVE. */
  effectiveMtls(namespace: string, labels: Record<string, string>): EffectiveMtls {
    const candidates = [
      this.peerAuthentications.find((p) => p.namespace === namespace && p.selector !== undefined && selects(p.selector, labels)),
      this.peerAuthentications.find((p) => p.namespace === namespace && p.selector === undefined),
      this.peerAuthentications.find((p) => p.namespace === this.options.rootNamespace && p.selector === undefined),
    ];
    for (const p of candidates) {
      // UNSET (or no mtls at all) inherits from the next level up.
      if (p && p.mode !== undefined && p.mode !== "UNSET") return { mode: p.mode, policy: p };
    }
    return { mode: "PERMISSIVE" };
  }

  private exactServices(fqdn: string, fromNs: string): ServiceInfo[] {
    return (this.byHost.get(fqdn) ?? []).filter((s) => visibleFrom(s.exportTo, s.namespace, fromNs));
  }

  private add(r: Resource): void {
    const ns = this.namespaceOf(r);
    const spec = specOf(r.body);
    switch (r.kind) {
      case "Service":
        if (r.group === "") this.addService(r, ns, spec);
        return;
      case "ServiceEntry":
        this.addServiceEntry(r, ns, spec);
        return;
      case "Workload":
        this.workloads.push({ kind: r.kind, name: r.metadata.name, namespace: ns, labels: r.metadata.labels, replicas: num(spec.replicas) ?? 1, resource: r });
        return;
      case "WorkloadEntry":
        this.workloads.push({ kind: r.kind, name: r.metadata.name, namespace: ns, labels: strMap(spec.labels), replicas: 1, resource: r });
        return;
      case "Pod":
        this.workloads.push({ kind: r.kind, name: r.metadata.name, namespace: ns, labels: r.metadata.labels, replicas: 1, resource: r });
        return;
      case "DestinationRule":
        this.addDestinationRule(r, ns, spec);
        return;
      case "Gateway":
        if (r.group === "networking.istio.io") this.gateways.set(`${ns}/${r.metadata.name}`, r);
        return;
      case "PeerAuthentication": {
        const selector = strMap(obj(spec.selector)?.matchLabels);
        const portModes: Record<string, string> = {};
        for (const [port, v] of Object.entries(obj(spec.portLevelMtls) ?? {})) {
          const m = str(obj(v)?.mode);
          if (m) portModes[port] = m.toUpperCase();
        }
        const mode = str(obj(spec.mtls)?.mode)?.toUpperCase();
        this.peerAuthentications.push({ resource: r, namespace: ns, selector: Object.keys(selector).length ? selector : undefined, mode, portModes });
        return;
      }
      default:
        if (POD_TEMPLATE_KINDS.has(r.kind)) {
          const labels = strMap(obj(obj(spec.template)?.metadata)?.labels);
          const replicas = r.kind === "DaemonSet" ? 1 : num(spec.replicas) ?? 1;
          this.workloads.push({ kind: r.kind, name: r.metadata.name, namespace: ns, labels, replicas, resource: r });
        }
    }
  }

  private addService(r: Resource, ns: string, spec: ReturnType<typeof specOf>): void {
    const selector = strMap(spec.selector);
    const exportTo = (r.metadata.annotations["networking.istio.io/exportTo"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const ports = arr(spec.ports).flatMap((p) => {
      const o = obj(p);
      const n = num(o?.port);
      if (!o || n === undefined) return [];
      const target = o.targetPort;
      return [{ number: n, name: str(o.name), targetPort: typeof target === "number" || typeof target === "string" ? target : undefined }];
    });
    this.index({
      host: `${r.metadata.name}.${ns}.svc.${this.options.domainSuffix}`.toLowerCase(),
      namespace: ns, kind: "Service", resource: r, exportTo,
      selector: Object.keys(selector).length ? selector : undefined, endpoints: [], ports,
    });
  }

  private addServiceEntry(r: Resource, ns: string, spec: ReturnType<typeof specOf>): void {
    const selector = strMap(obj(spec.workloadSelector)?.labels);
    const endpoints: WorkloadInfo[] = arr(spec.endpoints).flatMap((e, i) => {
      const o = obj(e);
      if (!o) return [];
      return [{ kind: "ServiceEntry endpoint", name: str(o.address) ?? `endpoints[${i}]`, namespace: ns, labels: strMap(o.labels), replicas: 1, resource: r }];
    });
    const ports = arr(spec.ports).flatMap((p) => {
      const o = obj(p);
      const n = num(o?.number);
      return o && n !== undefined ? [{ number: n, name: str(o.name), targetPort: num(o.targetPort) }] : [];
    });
    for (const h of strList(spec.hosts)) {
      this.index({
        host: resolveHost(h, ns, this.options.domainSuffix), namespace: ns, kind: "ServiceEntry", resource: r,
        exportTo: strList(spec.exportTo), selector: Object.keys(selector).length ? selector : undefined, endpoints, ports,
      });
    }
  }

  private addDestinationRule(r: Resource, ns: string, spec: ReturnType<typeof specOf>): void {
    const rawHost = str(spec.host);
    if (!rawHost) return;
    const rule: DestinationRuleInfo = { resource: r, namespace: ns, rawHost, host: resolveHost(rawHost, ns, this.options.domainSuffix), exportTo: strList(spec.exportTo), subsets: [] };
    arr(spec.subsets).forEach((s, i) => {
      const o = obj(s);
      const name = str(o?.name);
      if (o && name) rule.subsets.push({ name, labels: strMap(o.labels), path: ["spec", "subsets", i], rule });
    });
    this.destinationRules.push(rule);
  }

  private index(s: ServiceInfo): void {
    this.services.push(s);
    const list = this.byHost.get(s.host);
    if (list) list.push(s);
    else this.byHost.set(s.host, [s]);
  }
}
