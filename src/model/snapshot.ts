// Snapshot: the immutable view of the whole mesh that translation reads — services, workload
// instances and every Istio resource, typed, sorted, deep-frozen, with source positions kept so
// translated routes can say which file and line they came from. Built once per config change.
import { isObject, type FieldPath, type JsonObject, type Resource } from "./resource.ts";
import type { DestinationRuleSpec, GatewaySpec, ServiceEntrySpec, SidecarSpec, VirtualServiceSpec, WorkloadEntrySpec } from "./specs/networking.ts";
import type { MeshConfig } from "./specs/mesh-config.ts";
import type { AuthorizationPolicySpec, PeerAuthenticationSpec, RequestAuthenticationSpec } from "./specs/security.ts";
import { EMPTY_REGISTRY, type Registry, type Service, type WorkloadInstance } from "./registry.ts";
import type { ConfigEntry } from "./config-entry.ts";
import type { SourcePosition } from "./diagnostic.ts";
import { serviceFromKubernetes, servicesFromServiceEntry, instanceFromWorkloadEntry, slicedEndpoints } from "./snapshot-services.ts";

export type { ConfigEntry } from "./config-entry.ts";

export interface MeshSettings {
  /** Istio root namespace: mesh-wide Sidecar / PeerAuthentication / DestinationRule live here. */
  rootNamespace: string;
  /** Kubernetes DNS suffix of service hosts. */
  domainSuffix: string;
  trustDomain: string;
  /** Mesh default for unknown hosts: ALLOW_ANY passes through, REGISTRY_ONLY answers 502. */
  outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
  /**
   * The mesh's MeshConfig as loaded (`--mesh-config FILE`, validated): extension providers,
   * default providers, defaultConfig (ProxyConfig: tracing sampling, runtimeValues…), access log
   * file. Translation reads it; rootNamespace, trustDomain and outboundTrafficPolicy above are
   * already taken from it.
   */
  config?: MeshConfig;
  /**
   * Telemetry settings a runtime adds (e.g. `amime up`'s collector as the default tracing
   * provider): the shape is `MeshTelemetry` in control-plane/translate/telemetry.ts. The MeshConfig
   * wins where both set something. Typed loosely because model/ cannot import the control plane.
   */
  telemetry?: object;
}

export const DEFAULT_MESH: Readonly<MeshSettings> = Object.freeze({
  rootNamespace: "istio-system",
  domainSuffix: "cluster.local",
  trustDomain: "cluster.local",
  outboundTrafficPolicy: "ALLOW_ANY",
});

export interface Snapshot {
  version: string;
  mesh: Readonly<MeshSettings>;
  /** Sorted by host, then namespace. */
  services: readonly Service[];
  /** Sorted by namespace, then name. */
  instances: readonly WorkloadInstance[];
  virtualServices: readonly ConfigEntry<VirtualServiceSpec>[];
  destinationRules: readonly ConfigEntry<DestinationRuleSpec>[];
  gateways: readonly ConfigEntry<GatewaySpec>[];
  sidecars: readonly ConfigEntry<SidecarSpec>[];
  serviceEntries: readonly ConfigEntry<ServiceEntrySpec>[];
  workloadEntries: readonly ConfigEntry<WorkloadEntrySpec>[];
  peerAuthentications: readonly ConfigEntry<PeerAuthenticationSpec>[];
  requestAuthentications: readonly ConfigEntry<RequestAuthenticationSpec>[];
  authorizationPolicies: readonly ConfigEntry<AuthorizationPolicySpec>[];
  telemetries: readonly ConfigEntry<JsonObject>[];
  /** EnvoyFilters; translation applies the rate-limit patches among them (translate/rate-limit/). */
  envoyFilters: readonly ConfigEntry<JsonObject>[];
  /** Amime's RateLimit resources (amime.dev/v1alpha1; translate/rate-limit/kind.ts). */
  rateLimits: readonly ConfigEntry<JsonObject>[];
}

export interface SnapshotOptions {
  version?: string;
  mesh?: Partial<MeshSettings>;
}

const KIND_FIELDS = {
  VirtualService: "virtualServices",
  DestinationRule: "destinationRules",
  Gateway: "gateways",
  Sidecar: "sidecars",
  ServiceEntry: "serviceEntries",
  WorkloadEntry: "workloadEntries",
  PeerAuthentication: "peerAuthentications",
  RequestAuthentication: "requestAuthentications",
  AuthorizationPolicy: "authorizationPolicies",
  Telemetry: "telemetries",
  EnvoyFilter: "envoyFilters",
  RateLimit: "rateLimits",
} as const;

type EntryField = (typeof KIND_FIELDS)[keyof typeof KIND_FIELDS];

/**
 * Build a snapshot from loaded (and validated) resources plus a registry of instances and extra
 * services. Never mutates its inputs; the result is deep-frozen. Resources of kinds that do not
 * shape traffic (Deployments, Workloads…) are ignored. A later resource with the same kind,
 * namespace and name replaces an earlier one, as `kubectl apply` would.
 */
export function buildSnapshot(resources: readonly Resource[], registry: Registry = EMPTY_REGISTRY, options: SnapshotOptions = {}): Snapshot {
  const mesh: MeshSettings = { ...DEFAULT_MESH, ...options.mesh };
  // Frozen below: copies, so the caller's objects stay theirs.
  if (mesh.config) mesh.config = structuredClone(mesh.config);
  if (mesh.telemetry) mesh.telemetry = structuredClone(mesh.telemetry);
  const part = resourcePart(resources, mesh.domainSuffix);
  const slices = registry.serviceEndpoints;
  const fromResources = slices === undefined || slices.size === 0 ? part.services : part.services.map((s) => {
    const sliced = s.kind === "kubernetes" && s.selector === undefined ? slices.get(`${s.namespace}/${s.name}`) : undefined;
    return sliced === undefined ? s : { ...s, endpoints: slicedEndpoints(s, sliced) };
  });
  // As one stable sort of the resources' services, then the registry's (of the instances: the registry's, then the resources').
  const services = mergeSorted(fromResources, registry.services.map((s) => structuredClone(s)).sort(byService), byService);
  const instances = mergeSorted(registry.instances.map((i) => structuredClone(i)).sort(byInstance), part.instances, byInstance);
  const entries = part.entries;
  const snapshot: Snapshot = {
    version: options.version ?? "0",
    mesh,
    services,
    instances,
    ...(entries as unknown as Pick<Snapshot, EntryField>),
  };
  return deepFreeze(snapshot);
}

function ns(r: Resource): string {
  return r.metadata.namespace || "default";
}

/** A Kubernetes Service, an Istio kind of KIND_FIELDS or Amime's RateLimit: what a snapshot holds. */
function shapesTraffic(r: Resource): boolean {
  if (r.group === "") return r.kind === "Service";
  if (r.group === "amime.dev") return r.kind === "RateLimit";
  return r.group.endsWith("istio.io") && r.kind in KIND_FIELDS;
}

/** What a snapshot takes from the resources alone (sorted and frozen), shared by the snapshots of the same resource objects. */
interface ResourcePart {
  entries: Record<EntryField, readonly ConfigEntry<unknown>[]>;
  /** The Kubernetes Services' and ServiceEntries' services, sorted as a snapshot's. */
  services: readonly Service[];
  /** The WorkloadEntries' instances, sorted as a snapshot's. */
  instances: readonly WorkloadInstance[];
}

/**
 * The last resource part made, with the resource objects it was made of. A registration changes
 * the registry only: its snapshot finds the part of the same resources made (at the config change,
 * by makeEntries) instead of deduplicating, sorting and converting 5,000 resources again while a
 * starting sidecar waits (≈ 5–9 ms of a 1,000-service mesh's snapshot, docs/performance.md
 * "Session 16: the pushed 1,000-service start").
 */
let lastPart: { resources: readonly Resource[]; domainSuffix: string; part: ResourcePart } | undefined;

function resourcePart(resources: readonly Resource[], domainSuffix: string): ResourcePart {
  if (lastPart !== undefined && lastPart.domainSuffix === domainSuffix && sameObjects(lastPart.resources, resources)) return lastPart.part;
  const latest = new Map<string, Resource>();
  for (const r of resources) if (shapesTraffic(r)) latest.set(`${r.kind}/${ns(r)}/${r.metadata.name}`, r);
  const lists: Record<EntryField, ConfigEntry<unknown>[]> = {
    virtualServices: [], destinationRules: [], gateways: [], sidecars: [], serviceEntries: [], workloadEntries: [],
    peerAuthentications: [], requestAuthentications: [], authorizationPolicies: [], telemetries: [], envoyFilters: [], rateLimits: [],
  };
  const services: Service[] = [];
  for (const r of latest.values()) {
    if (r.kind === "Service") {
      const s = kubernetesService(r, domainSuffix);
      if (s) services.push(s);
      continue;
    }
    lists[KIND_FIELDS[r.kind as keyof typeof KIND_FIELDS]].push(toEntry(r));
  }
  const entries = Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, Object.freeze(v.sort(byNamespaceName))])) as Record<EntryField, readonly ConfigEntry<unknown>[]>;
  for (const se of entries.serviceEntries as ConfigEntry<ServiceEntrySpec>[]) services.push(...servicesFromServiceEntry(se, domainSuffix));
  const instances = (entries.workloadEntries as ConfigEntry<WorkloadEntrySpec>[]).map(weInstance);
  const part: ResourcePart = { entries, services: deepFreeze(services.sort(byService)), instances: Object.freeze(instances.sort(byInstance)) };
  lastPart = { resources: [...resources], domainSuffix, part };
  return part;
}

function sameObjects(a: readonly object[], b: readonly object[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function byService(a: Service, b: Service): number {
  return cmp(a.host, b.host) || cmp(a.namespace, b.namespace) || cmp(a.origin, b.origin);
}

function byInstance(a: WorkloadInstance, b: WorkloadInstance): number {
  return cmp(a.namespace, b.namespace) || cmp(a.name, b.name) || cmp(a.address, b.address);
}

/** Two sorted lists as one, `a`'s first among equals: what a stable sort of `a` then `b` gives. */
function mergeSorted<T>(a: readonly T[], b: readonly T[], order: (x: T, y: T) => number): T[] {
  if (b.length === 0) return [...a];
  if (a.length === 0) return [...b];
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(order(b[j]!, a[i]!) < 0 ? b[j++]! : a[i++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/**
 * Make now what the next snapshot of `resources` will share with every later one: each resource's
 * deep-frozen entry, a WorkloadEntry's instance and a Kubernetes Service's Service (cached by
 * resource object, as buildSnapshot caches them; `domainSuffix`: the mesh's); returns how many it
 * made; and the snapshot's whole resource part (its sorted entry lists, services and instances,
 * which the next snapshot of the same resource objects shares). A control plane calls it when its
 * config changes, so that the first snapshot after the change — built when a proxy registers or
 * connects, with its sidecar waiting on it — finds them made: for a 1,000-service mesh ≈ 25 ms of
 * a cold snapshot's ≈ 45 (docs/performance.md, "Session 13: the pushed start's critical path"),
 * and most of the rest ("Session 16: the pushed 1,000-service start").
 */
export function makeEntries(resources: readonly Resource[], domainSuffix = DEFAULT_MESH.domainSuffix): number {
  let made = 0;
  for (const r of resources) {
    if (!shapesTraffic(r)) continue;
    if (r.kind === "Service") {
      if (kubernetesServices.get(r)?.suffix !== domainSuffix) {
        kubernetesService(r, domainSuffix);
        made++;
      }
      continue;
    }
    if (resourceEntries.has(r)) continue;
    const e = toEntry(r);
    if (r.kind === "WorkloadEntry") weInstance(e as ConfigEntry<WorkloadEntrySpec>);
    // Translation gives every route the file and line of its rule (translate/routes.ts): found in
    // the resource's YAML now, ≈ 6 ms for 2,000 rules, not while a starting sidecar waits.
    if (r.kind === "VirtualService") {
      const rules = (e.spec as VirtualServiceSpec).http;
      if (Array.isArray(rules)) for (let i = 0; i < rules.length; i++) e.positionOf(["spec", "http", i]);
    }
    made++;
  }
  resourcePart(resources, domainSuffix);
  return made;
}

/**
 * Each resource's entry, and a WorkloadEntry's instance, made once and shared by every snapshot that
 * holds the same resource object: they are deep-frozen, derived from that object alone, and a store
 * replaces a changed resource with a new object. Each registration makes a new version: its snapshot
 * cloned and froze every resource's spec again, most of its time in a 1,000-service mesh, for the one
 * instance that changed (docs/performance.md, "Session 10: the pushed sidecar").
 */
const resourceEntries = new WeakMap<Resource, ConfigEntry<unknown>>();
const weInstances = new WeakMap<ConfigEntry<unknown>, WorkloadInstance>();

/**
 * A Kubernetes Service's Service, made once per resource object (and domain suffix) and shared by
 * every snapshot that holds it, as its entry is: deep-frozen, derived from the resource alone. A
 * selector-less Service's endpoints (EndpointSlices, from the registry) go on a copy.
 */
const kubernetesServices = new WeakMap<Resource, { suffix: string; service: Service | undefined }>();

function kubernetesService(r: Resource, domainSuffix: string): Service | undefined {
  let k = kubernetesServices.get(r);
  if (k === undefined || k.suffix !== domainSuffix) kubernetesServices.set(r, (k = { suffix: domainSuffix, service: deepFreeze(serviceFromKubernetes(r, ns(r), domainSuffix)) }));
  return k.service;
}

function toEntry(r: Resource): ConfigEntry<unknown> {
  let e = resourceEntries.get(r);
  if (e === undefined) resourceEntries.set(r, (e = deepFreeze(newEntry(r))));
  return e;
}

function weInstance(we: ConfigEntry<WorkloadEntrySpec>): WorkloadInstance {
  let i = weInstances.get(we);
  if (i === undefined) weInstances.set(we, (i = deepFreeze(instanceFromWorkloadEntry(we))));
  return i;
}

function newEntry(r: Resource): ConfigEntry<unknown> {
  const spec = isObject(r.body.spec) ? frozenCopy(r.body.spec) : {};
  const labels = isObject(r.body.metadata) && isObject(r.body.metadata.labels) ? { ...(r.body.metadata.labels as Record<string, string>) } : {};
  const namespace = ns(r);
  const positions = new Map<string, SourcePosition>();
  return {
    kind: r.kind,
    name: r.metadata.name,
    namespace,
    id: `${r.kind} ${namespace}/${r.metadata.name}`,
    labels,
    ...(Object.keys(r.metadata.annotations ?? {}).length > 0 ? { annotations: { ...r.metadata.annotations } } : {}),
    spec,
    source: { ...r.source },
    // Bound to the original resource; reading positions never changes it. Each path's position is
    // found once (walking the YAML for it is what costs): makeEntries finds those translation reads.
    positionOf: (path: FieldPath) => {
      const key = JSON.stringify(path);
      let at = positions.get(key);
      if (at === undefined) positions.set(key, (at = Object.freeze(r.positionOf(path))));
      return at;
    },
  };
}

function byNamespaceName(a: ConfigEntry<unknown>, b: ConfigEntry<unknown>): number {
  return cmp(a.namespace, b.namespace) || cmp(a.name, b.name);
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A deep-frozen copy of parsed data (plain objects, arrays, primitives) in one walk: a resource's
 * spec, ≈ 3,000 of them in a 1,000-service mesh, was copied by structuredClone and then walked
 * again by deepFreeze, most of a cold snapshot's time. Anything else (a Date, a Map) is copied by
 * structuredClone as before.
 */
function frozenCopy(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(frozenCopy(v));
    return Object.freeze(out);
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return deepFreeze(structuredClone(value));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = frozenCopy((value as Record<string, unknown>)[k]);
    // An own "__proto__" key (JSON.parse makes one) stays a key, as structuredClone keeps it.
    if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return Object.freeze(out);
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
  return value;
}

/**
 * Istio's short-name resolution: a host without dots is a Kubernetes service in `namespace`;
 * anything with a dot (or a wildcard) is taken as written.
 */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  if (host === "*" || host.includes(".")) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}
