// The Kubernetes platform's ingest: Istio's custom resources and Services read from the API server
// go into the config store (each object judged on its own, like one config file: an invalid one is
// refused with its field path and logged, and the last good version of it stays in force), and
// Pods become the registry's workload instances (labels, service account, namespace and address
// from the pod, readiness from its Ready condition); EndpointSlices give Services without a
// selector their endpoints (endpoint-slices.ts). All feed the same snapshot → translate →
// push as config files do. Every collection is listed, then watched (reflector.ts).
import { hostname } from "node:os";
import { formatDiagnostic } from "../../model/diagnostic.ts";
import { KINDS } from "../../config/kinds/index.ts";
import type { Clock } from "../../core/clock.ts";
import type { WorkloadInstance } from "../../model/registry.ts";
import type { ConfigStore, StoreResult } from "../store/config-store.ts";
import type { KubeConnection } from "./kube-config.ts";
import { KubeApiError, listAll, postJson, Reflector, type KubeObject } from "./reflector.ts";
import { sliceInstances, sliceService } from "./endpoint-slices.ts";
import { instanceOfPod } from "./pod-instance.ts";

export interface KubernetesSourceOptions {
  conn: KubeConnection;
  store: ConfigStore;
  clock: Clock;
  log: (line: string) => void;
  /** A config object was adopted or the instances changed: a new version to push. */
  changed: () => void;
  /** A pod was deleted from the cluster (what is kept per pod, such as its sidecar's TCP ports, can go). */
  podGone?: (namespace: string, name: string) => void;
}

const EVENT_COMPONENT = "amime-control-plane";

/** A config object as the API server gave it, for an Event about it. */
interface Involved {
  c: ConfigCollection;
  o: KubeObject;
}

export interface ConfigCollection {
  path: string;
  apiVersion: string;
  kind: string;
}

/** The collections of config the control plane watches: every Istio kind Amime knows, and Services. */
export function configCollections(): ConfigCollection[] {
  const out: ConfigCollection[] = [{ path: "/api/v1/services", apiVersion: "v1", kind: "Service" }];
  for (const k of KINDS) {
    if (!k.group.endsWith("istio.io")) continue;
    const version = k.versions[k.versions.length - 1]!;
    out.push({ path: `/apis/${k.group}/${version}/${pluralOf(k.kind)}`, apiVersion: `${k.group}/${version}`, kind: k.kind });
  }
  return out;
}

/** Kubernetes' default plural of a kind (what Istio's CRDs use): lower case, -y → -ies, else -s. */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  return /[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : `${lower}s`;
}

/** The store's source name of one object (where diagnostics say it came from). */
export function sourceOf(kind: string, obj: KubeObject): string {
  return `kubernetes:${kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

/** The object as config: kind and apiVersion set (list items lack them), status and server bookkeeping dropped. */
export function configText(c: ConfigCollection, obj: KubeObject): string {
  const { status: _status, ...rest } = obj;
  const { managedFields: _m, ...metadata } = obj.metadata;
  return JSON.stringify({ ...rest, apiVersion: c.apiVersion, kind: c.kind, metadata });
}

/**
 * The cluster's config once (`amime analyze --kubeconfig`): each object's text by source name.
 * A collection that is not served (its CRD is not installed) is left out and named in `missing`.
 */
export async function listClusterConfig(conn: KubeConnection): Promise<{ texts: Map<string, string>; missing: string[] }> {
  const texts = new Map<string, string>();
  const missing: string[] = [];
  for (const c of configCollections()) {
    let items: KubeObject[];
    try {
      items = (await listAll(conn, c.path)).items;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404 && c.path.startsWith("/apis/")) {
        missing.push(c.path);
        continue;
      }
      throw e;
    }
    for (const o of items) texts.set(sourceOf(c.kind, o), configText(c, o));
  }
  return { texts, missing };
}

export class KubernetesSource {
  private readonly reflectors: Reflector[] = [];
  private readonly instances = new Map<string, WorkloadInstance>();
  private instanceList: WorkloadInstance[] = [];
  /** EndpointSlices by `namespace/name`. */
  private readonly slices = new Map<string, KubeObject>();
  /** Built from the slices and pods on first use after a change of either. */
  private endpointsByService: Map<string, WorkloadInstance[]> | null = null;
  /** Before the first sync, config objects are gathered and judged as one set. */
  private initial: Map<string, string | null> | null = new Map();
  /** The objects gathered before the first sync, for the Events of those refused. */
  private readonly initialObjects = new Map<string, Involved>();

  private readonly opts: KubernetesSourceOptions;

  constructor(opts: KubernetesSourceOptions) {
    this.opts = opts;
  }

  /** List everything (one judgement of the whole initial config), then watch. Rejects when the API server cannot be listed. */
  async start(): Promise<StoreResult> {
    for (const c of configCollections()) {
      const r = new Reflector(this.opts.conn, c.path, {
        upsert: (o) => this.config(sourceOf(c.kind, o), configText(c, o), { c, o }),
        remove: (o) => this.config(sourceOf(c.kind, o), null, null),
      }, this.opts.clock, this.opts.log);
      this.reflectors.push(r);
    }
    const pods = new Reflector(this.opts.conn, "/api/v1/pods", {
      upsert: (o) => this.pod(o, false),
      remove: (o) => this.pod(o, true),
    }, this.opts.clock, this.opts.log);
    this.reflectors.push(pods);
    const slices = new Reflector(this.opts.conn, "/apis/discovery.k8s.io/v1/endpointslices", {
      upsert: (o) => this.slice(o, false),
      remove: (o) => this.slice(o, true),
    }, this.opts.clock, this.opts.log);
    this.reflectors.push(slices);
    const started: Reflector[] = [];
    for (const r of this.reflectors) {
      try {
        await r.start();
        started.push(r);
      } catch (e) {
        // A CRD that is not installed: that kind is simply not read (Istio's CRDs may be a subset).
        if (e instanceof KubeApiError && e.status === 404 && r.path.startsWith("/apis/")) {
          this.opts.log(`kubernetes: ${r.path} is not served (CRD not installed?); not watching it`);
          continue;
        }
        this.close();
        throw e;
      }
    }
    this.reflectors.splice(0, this.reflectors.length, ...started);
    const initial = this.initial!;
    this.initial = null;
    const objects = new Map(this.initialObjects);
    this.initialObjects.clear();
    let result = await this.opts.store.setFiles(initial);
    if (!result.accepted) {
      // Judge each object alone: the valid ones are taken, each invalid one is logged.
      for (const [source, text] of initial) if (text !== null) await this.judge(source, text, objects.get(source) ?? null);
      result = { accepted: true, changed: true, changes: [], diagnostics: this.opts.store.lastRefusals().flatMap((r) => r.diagnostics) };
    }
    this.opts.changed();
    return result;
  }

  /** The instance of one pod (null: unknown, without an IP yet, or finished). */
  podInstance(namespace: string, name: string): WorkloadInstance | undefined {
    return this.instances.get(`${namespace}/${name}`);
  }

  /** The workload instances of the cluster's pods (a new array after every change). */
  workloadInstances(): readonly WorkloadInstance[] {
    return this.instanceList;
  }

  /**
   * The endpoints of each Service (`namespace/name`) its EndpointSlices list (taken for Services
   * without a selector), pods looked up by the slices' targetRefs.
   */
  serviceEndpoints(): ReadonlyMap<string, readonly WorkloadInstance[]> {
    if (this.endpointsByService === null) {
      const out = new Map<string, WorkloadInstance[]>();
      for (const slice of this.slices.values()) {
        const service = sliceService(slice);
        if (service === null) continue;
        const list = out.get(service) ?? [];
        list.push(...sliceInstances(slice, (ns, name) => this.instances.get(`${ns}/${name}`)));
        out.set(service, list);
      }
      this.endpointsByService = out;
    }
    return this.endpointsByService;
  }

  close(): void {
    for (const r of this.reflectors) r.close();
  }

  private slice(obj: KubeObject, removed: boolean): void {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (removed) this.slices.delete(key);
    else this.slices.set(key, obj);
    this.endpointsByService = null;
    if (this.initial === null) this.opts.changed();
  }

  private config(source: string, text: string | null, involved: Involved | null): void {
    if (this.initial !== null) {
      this.initial.set(source, text);
      if (involved !== null) this.initialObjects.set(source, involved);
      return;
    }
    void this.judge(source, text, involved);
  }

  private async judge(source: string, text: string | null, involved: Involved | null): Promise<void> {
    const result = await this.opts.store.setFiles(new Map([[source, text]]));
    if (result.accepted) {
      if (result.changed) this.opts.changed();
      this.opts.log(`${source}: ${text === null ? "deleted" : "accepted"}`);
    } else {
      const errors = result.diagnostics.filter((d) => d.level === "error").map(formatDiagnostic);
      this.opts.log(`${source}: refused, keeping the last good config:\n  ${errors.join("\n  ")}`);
      if (involved !== null) await this.warn(involved, errors);
    }
  }

  /** A Warning Event on the refused object (kubectl describe / get events show it). */
  private async warn({ c, o }: Involved, errors: string[]): Promise<void> {
    const namespace = o.metadata.namespace ?? "default";
    const now = new Date(this.opts.clock.wallNow()).toISOString();
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${o.metadata.name}.`, namespace },
      involvedObject: { apiVersion: c.apiVersion, kind: c.kind, name: o.metadata.name, namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion },
      type: "Warning",
      reason: "ConfigRefused",
      message: `refused by the Amime control plane, its last good version stays in force: ${errors.join("; ")}`.slice(0, 1024),
      source: { component: EVENT_COMPONENT },
      reportingComponent: EVENT_COMPONENT,
      reportingInstance: hostname(),
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await postJson(this.opts.conn, `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, event);
    } catch (e) {
      this.opts.log(`kubernetes: cannot record an Event for ${c.kind} ${namespace}/${o.metadata.name}: ${(e as Error).message}`);
    }
  }

  private pod(obj: KubeObject, removed: boolean): void {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const instance = removed ? null : instanceOfPod(obj);
    if (removed) this.opts.podGone?.(obj.metadata.namespace ?? "default", obj.metadata.name);
    const old = this.instances.get(key);
    if (instance === null) {
      if (old === undefined) return;
      this.instances.delete(key);
    } else {
      if (old !== undefined && JSON.stringify(old) === JSON.stringify(instance)) return;
      this.instances.set(key, instance);
    }
    this.instanceList = [...this.instances.values()];
    this.endpointsByService = null;
    if (this.initial === null) this.opts.changed();
  }
}
