// Leader work: remove instance registrations whose proxy has had no stream at any replica for a
// grace period, as istiod's leader cleans up auto-registered WorkloadEntries whose proxy stayed
// disconnected from every istiod for PILOT_WORKLOAD_ENTRY_GRACE_PERIOD (10 s). Only registrations
// whose proxy connected at least once (`<prefix>streams/<node>`, store/etcd/stream-marks.ts) are
// candidates, as Istio cleans only entries a connecting proxy made: an instance without a sidecar
// (or whose sidecar never came up) keeps its registration until the runtime removes it.
// Every sweep reads `streams/`, then the replicas' marks `connected/`, then `instances/`; a proxy
// with no mark is "missing" from the first sweep that saw it so (again from the start when its
// `streams/` key changed meanwhile: it connected since); once missing for the grace period,
// its registrations and its `streams/` key are deleted in one transaction that holds only if none
// of them changed since they were read (a proxy reconnecting puts `streams/<node>` again).
// Every replica adopts the deletion through its registry watch (store/etcd/shared-registry.ts).
import type { Etcd3 } from "etcd3";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { InstanceRegistration } from "../../model/wire.ts";
import { connectedPrefix } from "../store/etcd/stream-marks.ts";

/** Istio's PILOT_WORKLOAD_ENTRY_GRACE_PERIOD default. */
export const DEFAULT_REGISTRATION_CLEANUP_GRACE_MS = 10_000;

export interface RegistrationReaperOptions {
  client: Etcd3;
  prefix: string;
  clock: Clock;
  graceMs: number;
  /** Checked right before each deletion. */
  leading: () => boolean;
  log: (line: string) => void;
}

export class RegistrationReaper {
  readonly #o: RegistrationReaperOptions;
  /** node → clock.now() of the first sweep that found it with no stream anywhere, and the revision of its `streams/` key then. */
  readonly #missing = new Map<string, { since: number; revision: number }>();
  #timer: TimerHandle | null = null;
  #running = false;

  constructor(o: RegistrationReaperOptions) {
    this.#o = o;
  }

  /** Sweep every half grace period while leading (a new leader starts counting afresh). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = null;
    this.#missing.clear();
  }

  #schedule(): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.sweep().catch((e: unknown) => this.#o.log(`registration cleanup: ${(e as Error).message}`)).finally(() => {
        if (this.#running) this.#schedule();
      });
    }, Math.max(1, this.#o.graceMs / 2));
  }

  /** One pass; resolves with the registrations removed (`namespace/name`). */
  async sweep(): Promise<string[]> {
    const { client, prefix, clock, graceMs } = this.#o;
    const streams = await client.getAll().prefix(`${prefix}streams/`).exec();
    const marks = await client.getAll().prefix(connectedPrefix(prefix)).keys();
    const instances = await client.getAll().prefix(`${prefix}instances/`).exec();
    const connected = new Set(marks.map((k) => decodeURIComponent(k.slice(connectedPrefix(prefix).length).split("/")[0] as string)));
    const now = clock.now();
    const seen = new Set<string>();
    const removed: string[] = [];
    for (const kv of streams.kvs) {
      const key = kv.key.toString();
      const node = decodeURIComponent(key.slice(`${prefix}streams/`.length));
      seen.add(node);
      if (connected.has(node)) {
        this.#missing.delete(node);
        continue;
      }
      // A stream opened since the last sweep (and closed again) counts the grace period afresh.
      const revision = Number(kv.mod_revision);
      const before = this.#missing.get(node);
      const since = before !== undefined && before.revision === revision ? before.since : now;
      this.#missing.set(node, { since, revision });
      if (now - since < graceMs || !this.#o.leading()) continue;
      const regs = instances.kvs.filter((i) => nodeOf(i.value.toString()) === node);
      let txn = client.if(key, "Mod", "==", revision);
      for (const r of regs) txn = txn.and(r.key.toString(), "Mod", "==", Number(r.mod_revision));
      const res = await txn.then(client.delete().key(key), ...regs.map((r) => client.delete().key(r.key.toString()))).commit();
      if (!res.succeeded) continue;
      this.#missing.delete(node);
      const names = regs.map((r) => r.key.toString().slice(`${prefix}instances/`.length));
      removed.push(...names);
      if (names.length > 0) this.#o.log(`registration cleanup: removed ${names.join(", ")}: proxy ${node} has had no stream at any replica for ${Math.round((now - since) / 1000)} s (grace period ${graceMs / 1000} s)`);
    }
    for (const node of this.#missing.keys()) if (!seen.has(node)) this.#missing.delete(node);
    return removed;
  }
}

function nodeOf(value: string): string | undefined {
  try {
    return (JSON.parse(value) as InstanceRegistration).nodeId;
  } catch {
    return undefined;
  }
}
