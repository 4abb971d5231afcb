// The mesh trust bundle as ConfigMap `istio-ca-root-cert` (key `root-cert.pem`) in every
// namespace, as istiod's namespace controller writes it: injected sidecars mount it to verify the
// control plane (`--root-cert /var/run/secrets/istio/root-cert.pem`). Namespaces and those
// ConfigMaps are watched (reflector.ts): a new namespace gets one, a deleted or edited one is
// written again, and a new bundle (root rotation) is written to all. Istio's system namespaces
// are skipped (kube-system, kube-public, kube-node-lease, local-path-storage: Istio's
// inject.IgnoredNamespaces), and so is a namespace being deleted. Other keys of the ConfigMap are
// kept, as Istio keeps them. See docs/kubernetes.md.
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { KubeConnection } from "./kube-config.ts";
import { KubeApiError, postJson, putJson, Reflector, type KubeObject } from "./reflector.ts";

export const ROOT_CERT_CONFIG_MAP = "istio-ca-root-cert";
export const ROOT_CERT_KEY = "root-cert.pem";
/** Istio's label on the ConfigMaps it writes. */
export const CONFIG_LABEL = "istio.io/config";
/** Namespaces Istio never injects nor writes the root into (inject.IgnoredNamespaces). */
export const IGNORED_NAMESPACES: ReadonlySet<string> = new Set(["kube-system", "kube-public", "kube-node-lease", "local-path-storage"]);
const RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export interface RootCertPublisherOptions {
  conn: KubeConnection;
  clock: Clock;
  log: (line: string) => void;
}

export class RootCertPublisher {
  readonly #o: RootCertPublisherOptions;
  #bundle: string;
  /** Namespaces that exist and are not being deleted. */
  readonly #namespaces = new Set<string>();
  /** The ConfigMap as last seen, per namespace. */
  readonly #maps = new Map<string, KubeObject>();
  /** Namespaces with a write in flight, and those to look at again once it is done. */
  readonly #busy = new Set<string>();
  readonly #again = new Set<string>();
  readonly #retries = new Map<string, { timer: TimerHandle; wait: number }>();
  readonly #reflectors: Reflector[] = [];
  #started = false;
  #closed = false;
  /** Writes made (created or updated), for tests and logs. */
  writes = 0;

  constructor(bundle: string, o: RootCertPublisherOptions) {
    this.#bundle = bundle;
    this.#o = o;
  }

  /** List namespaces and the ConfigMaps (rejects when the API server cannot be listed), write what is missing, then watch. */
  async start(): Promise<void> {
    const namespaces = new Reflector(this.#o.conn, "/api/v1/namespaces", {
      upsert: (ns) => this.#namespace(ns),
      remove: (ns) => {
        this.#namespaces.delete(ns.metadata.name);
      },
    }, this.#o.clock, this.#o.log);
    const maps = new Reflector(this.#o.conn, `/api/v1/configmaps?fieldSelector=${encodeURIComponent(`metadata.name=${ROOT_CERT_CONFIG_MAP}`)}`, {
      upsert: (cm) => {
        const ns = cm.metadata.namespace ?? "";
        this.#maps.set(ns, cm);
        this.#reconcile(ns);
      },
      remove: (cm) => {
        const ns = cm.metadata.namespace ?? "";
        this.#maps.delete(ns);
        this.#reconcile(ns);
      },
    }, this.#o.clock, this.#o.log);
    this.#reflectors.push(namespaces, maps);
    await namespaces.start();
    await maps.start();
    this.#started = true;
    for (const ns of this.#namespaces) this.#reconcile(ns);
  }

  /** A new trust bundle (root rotation): every namespace's ConfigMap is brought to it. */
  setBundle(bundle: string): void {
    if (bundle === this.#bundle) return;
    this.#bundle = bundle;
    for (const ns of this.#namespaces) this.#reconcile(ns);
  }

  close(): void {
    this.#closed = true;
    for (const r of this.#reflectors) r.close();
    for (const { timer } of this.#retries.values()) timer.cancel();
  }

  #namespace(ns: KubeObject): void {
    const name = ns.metadata.name;
    const terminating = (ns.status as { phase?: string } | undefined)?.phase === "Terminating" || ns.metadata.deletionTimestamp !== undefined;
    if (terminating || IGNORED_NAMESPACES.has(name)) {
      this.#namespaces.delete(name);
      return;
    }
    this.#namespaces.add(name);
    this.#reconcile(name);
  }

  /** Bring one namespace's ConfigMap to the bundle; one write per namespace at a time. */
  #reconcile(ns: string): void {
    if (!this.#started || this.#closed || !this.#namespaces.has(ns)) return;
    if (this.#busy.has(ns)) {
      this.#again.add(ns);
      return;
    }
    const current = this.#maps.get(ns);
    const data = (current?.data ?? {}) as Record<string, string>;
    if (current !== undefined && data[ROOT_CERT_KEY] === this.#bundle) return;
    this.#busy.add(ns);
    void this.#write(ns, current).then(
      (written) => {
        this.#retries.get(ns)?.timer.cancel();
        this.#retries.delete(ns);
        // What the server stored is the current state (the watch brings the same a moment later).
        if (written !== null) this.#maps.set(ns, written);
        this.writes++;
      },
      (e: unknown) => {
        // A conflict (it was created or changed meanwhile) is settled by the watch event that follows; anything else is retried.
        if (e instanceof KubeApiError && e.status === 409) return;
        this.#retry(ns, e as Error);
      },
    ).finally(() => {
      this.#busy.delete(ns);
      if (this.#again.delete(ns)) this.#reconcile(ns);
    });
  }

  #write(ns: string, current: KubeObject | undefined): Promise<KubeObject | null> {
    const base = `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps`;
    if (current === undefined) {
      const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: ROOT_CERT_CONFIG_MAP, namespace: ns, labels: { [CONFIG_LABEL]: "true" } }, data: { [ROOT_CERT_KEY]: this.#bundle } };
      return postJson(this.#o.conn, base, body) as Promise<KubeObject>;
    }
    const body = { ...current, data: { ...((current.data ?? {}) as Record<string, string>), [ROOT_CERT_KEY]: this.#bundle } };
    return putJson(this.#o.conn, `${base}/${ROOT_CERT_CONFIG_MAP}`, body) as Promise<KubeObject>;
  }

  #retry(ns: string, e: Error): void {
    if (this.#closed) return;
    const wait = Math.min((this.#retries.get(ns)?.wait ?? RETRY_MS / 2) * 2, MAX_RETRY_MS);
    this.#o.log(`kubernetes: cannot write ConfigMap ${ns}/${ROOT_CERT_CONFIG_MAP}: ${e.message}; retrying in ${wait} ms`);
    this.#retries.get(ns)?.timer.cancel();
    this.#retries.set(ns, { wait, timer: this.#o.clock.setTimeout(() => this.#reconcile(ns), wait) });
  }
}
