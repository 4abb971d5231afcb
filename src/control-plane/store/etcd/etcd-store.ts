// EtcdStore: the config store's applied resources kept in etcd, shared by every control-plane
// replica (`--store etcd://…`). One key per resource, `<prefix>resources/<group>|<Kind>|<ns>|<name>`,
// whose value is the document with its generation and who changed it last; its resourceVersion is
// the key's mod_revision, as the Kubernetes API server's is. Every write also puts
// `<prefix>revision` and is a transaction on it: it succeeds only if no write happened since the
// state the change was judged on, so every state in etcd passed the analyze gate as a whole. When
// the guard moved, the keys the change touches are read back: one changed → kubectl's Conflict;
// none → this replica's view was behind, and the store judges the change again once its watch has
// caught up. Every replica (the writer too) watches the prefix and adopts what others wrote.
// `<prefix>revocations` holds the CA's deny list (JSON), so every replica denies the same
// certificates and pushes the list to its own proxies.
//
// Client: the `etcd3` npm package (gRPC). etcd's JSON gateway would spare the gRPC dependency, but
// its watch is a chunked HTTP stream whose reconnection and resumption from a revision, and the
// failover between members, would have to be written here; etcd3 does both.
import { Etcd3, type IKeyValue, type IWatchResponse, type Watcher } from "etcd3";
import { resourceFromJson, } from "../../../config/parse.ts";
import { isObject, resourceId, type JsonObject, type Resource } from "../../../model/resource.ts";
import type { Diagnostic } from "../../../model/diagnostic.ts";
import type { Random } from "../../../core/random.ts";
import type { Revocation } from "../../../model/wire.ts";
import { StoreConflictError, StoreStaleError, type ExternalChange, type StoreWrite } from "../saver.ts";
import type { ChangeEntry, ResourceMeta } from "../store-file.ts";
import type { EtcdCredentials } from "./etcd-tls.ts";
import type { EtcdStoreUrl } from "./store-url.ts";

/** etcd could not be reached or answered an error (layer: control plane store). */
export class EtcdUnavailableError extends Error {
  readonly code = "CP_ETCD_UNAVAILABLE";
  constructor(url: string, cause: unknown) {
    super(`etcd ${url} is unavailable: ${(cause as Error).message ?? String(cause)}`);
    this.name = "EtcdUnavailableError";
  }
}

export interface EtcdStoreOptions {
  url: EtcdStoreUrl;
  random: Random;
  log: (line: string) => void;
  /** Deadline of one etcd call (default 5 s). */
  callTimeoutMs?: number;
  /** With etcds://: the CA and client certificate (etcd-tls.ts); none = system roots, no client certificate. */
  credentials?: EtcdCredentials;
}

/** What was in etcd at start: the resources as a batch to adopt, and the change log. */
export interface EtcdState {
  batch: ExternalChange;
  changes: ChangeEntry[];
  /** Stored values that are not resources (reported, not adopted). */
  unusable: Diagnostic[];
  /** The etcd revision the state was read at (the watch starts after it). */
  readRevision: number;
  /** The CA's deny list as stored (null: never written). */
  revocations: Revocation[] | null;
}

interface StoredValue {
  body: JsonObject;
  source: { file: string; line: number; column: number };
  generation: number;
  changed?: { by: string; at: string; action: string };
}

export class EtcdStore {
  readonly url: EtcdStoreUrl;
  private readonly client: Etcd3;
  private readonly log: (line: string) => void;
  private watcher: Watcher | null = null;
  private follow: { onBatch: (b: ExternalChange) => void; onResync: (s: EtcdState) => void } | null = null;
  private readonly random: Random;
  private closed = false;
  /** mod_revision of the deny list key as last seen (0: absent). */
  private revocationsRevision = 0;
  /** A deny list written by another replica, for `onRevocations` (kept until it is set). */
  private pendingRevocations: Revocation[] | null = null;
  private revocationsListener: ((entries: Revocation[]) => void) | null = null;

  constructor(opts: EtcdStoreOptions) {
    this.url = opts.url;
    this.log = opts.log;
    this.random = opts.random;
    const timeout = opts.callTimeoutMs ?? 5_000;
    this.client = new Etcd3({
      hosts: opts.url.endpoints,
      // etcd3 types the CA as required; gRPC takes the system's roots when it is absent.
      ...(opts.credentials !== undefined ? { credentials: opts.credentials as { rootCertificate: Buffer } } : {}),
      dialTimeout: timeout,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
      // The watch reconnects soon after etcd returns (the default backoff waits up to 30 s).
      faultHandling: { watchBackoff: jitteredBackoff(opts.random, 100, 2_000) },
    });
  }

  /** The client, shared with the leader election (src/control-plane/leader/). */
  get connection(): Etcd3 {
    return this.client;
  }

  private key(k: string): string {
    return `${this.url.prefix}resources/${k}`;
  }

  private get guardKey(): string {
    return `${this.url.prefix}revision`;
  }

  private get revocationsKey(): string {
    return `${this.url.prefix}revocations`;
  }

  /**
   * Write the deny list, if nobody else wrote it since this replica last saw it (else the change
   * is refused: try again once the newer list has arrived).
   */
  async saveRevocations(entries: readonly Revocation[]): Promise<void> {
    let res;
    try {
      res = await this.client.if(this.revocationsKey, "Mod", "==", this.revocationsRevision).then(this.client.put(this.revocationsKey).value(JSON.stringify(entries))).commit();
    } catch (e) {
      throw new EtcdUnavailableError(this.url.text, e);
    }
    if (!res.succeeded) throw new Error(`the revocation list in etcd ${this.url.text} was changed by another replica meanwhile; try again`);
    this.revocationsRevision = Number(res.header.revision);
  }

  /** Where the shared CA root is kept (shared-ca.ts). */
  get caKey(): string {
    return `${this.url.prefix}ca`;
  }

  /** One key's value (null: absent). */
  async getValue(key: string): Promise<string | null> {
    try {
      return await this.client.get(key).string();
    } catch (e) {
      throw new EtcdUnavailableError(this.url.text, e);
    }
  }

  /** Put `value` only if `key` does not exist yet; false when it does. */
  async createValue(key: string, value: string): Promise<boolean> {
    try {
      const res = await this.client.if(key, "Create", "==", 0).then(this.client.put(key).value(value)).commit();
      return res.succeeded;
    } catch (e) {
      throw new EtcdUnavailableError(this.url.text, e);
    }
  }

  /** A deny list has been written to etcd (by any replica, ever). */
  get holdsRevocations(): boolean {
    return this.revocationsRevision > 0;
  }

  /** Hear of deny lists other replicas write (one written before this call is delivered now). */
  onRevocations(listener: (entries: Revocation[]) => void): void {
    this.revocationsListener = listener;
    const pending = this.pendingRevocations;
    this.pendingRevocations = null;
    if (pending !== null) listener(pending);
  }

  /** Read every stored resource (one consistent range over the prefix). */
  async load(): Promise<EtcdState> {
    let res;
    try {
      res = await this.client.getAll().prefix(this.url.prefix).exec();
    } catch (e) {
      throw new EtcdUnavailableError(this.url.text, e);
    }
    const put = new Map<string, { resource: Resource; meta: ResourceMeta }>();
    const changes: ChangeEntry[] = [];
    const unusable: Diagnostic[] = [];
    let guard = 0;
    let revocations: Revocation[] | null = null;
    for (const kv of res.kvs) {
      const name = kv.key.toString();
      if (name === this.guardKey) guard = Number(kv.mod_revision);
      if (name === this.revocationsKey) {
        revocations = this.decodeRevocations(kv);
        this.revocationsRevision = Number(kv.mod_revision);
        this.pendingRevocations = revocations;
      }
      if (!name.startsWith(this.key(""))) continue;
      const r = this.decode(kv, unusable);
      if (r === null) continue;
      put.set(name.slice(this.key("").length), { resource: r.resource, meta: r.meta });
      if (r.changed) changes.push({ id: resourceId(r.resource), ...r.changed });
    }
    return { batch: { put, removed: [], revision: guard, actor: null }, changes, unusable, readRevision: Number(res.header.revision), revocations };
  }

  /** Write one accepted change (see the header); resolves to the revision its resources take. */
  async save(w: StoreWrite): Promise<number> {
    const touched = [...w.put.keys(), ...w.removed];
    if (touched.length === 0) return w.base;
    const ops = [this.client.put(this.guardKey).value(String(touched.length))];
    for (const [k, { resource, generation }] of w.put) {
      const change = w.changes.find((c) => c.resource === resourceId(resource));
      const value: StoredValue = {
        body: resource.body,
        source: { file: resource.source.file, line: resource.source.line, column: resource.source.column },
        generation,
        ...(w.actor !== null ? { changed: { by: w.actor.by, at: w.actor.at.toISOString(), action: change?.action ?? "configured" } } : {}),
      };
      ops.push(this.client.put(this.key(k)).value(JSON.stringify(value)));
    }
    const deletes = w.removed.map((k) => this.client.delete().key(this.key(k)));
    let res;
    try {
      res = await this.client
        .if(this.guardKey, "Mod", "<", w.base + 1)
        .then(...ops, ...deletes)
        .else(...touched.map((k) => this.client.get(this.key(k))), this.client.get(this.guardKey))
        .commit();
    } catch (e) {
      throw new EtcdUnavailableError(this.url.text, e);
    }
    if (res.succeeded) return Number(res.header.revision);
    const moved: string[] = [];
    const current = new Map<string, number>();
    touched.forEach((k, i) => {
      const kv = res.responses[i]?.response_range?.kvs[0];
      const now = kv === undefined ? 0 : Number(kv.mod_revision);
      if (now !== 0) current.set(k, now);
      if (now !== (w.expected.get(k) ?? 0)) moved.push(k);
    });
    if (moved.length > 0) throw new StoreConflictError(moved, current);
    const guard = res.responses[touched.length]?.response_range?.kvs[0];
    throw new StoreStaleError(guard === undefined ? w.base + 1 : Number(guard.mod_revision));
  }

  /**
   * Hear of every write after `afterRevision`, one batch per etcd revision (one write), in order.
   * The watch survives member failures and a whole-cluster outage (it resumes where it stopped).
   */
  async watch(afterRevision: number, onBatch: (b: ExternalChange) => void, onResync: (s: EtcdState) => void): Promise<void> {
    this.follow = { onBatch, onResync };
    await this.startWatch(afterRevision);
  }

  private async startWatch(afterRevision: number): Promise<void> {
    const follow = this.follow!;
    let w: Watcher;
    try {
      w = await this.client.watch().prefix(this.url.prefix).startRevision(String(afterRevision + 1)).create();
    } catch (e) {
      // etcd cancels a watch from a revision it has compacted away: read everything again.
      if (/cancel/i.test((e as Error).message)) return this.resync((e as Error).message);
      throw e;
    }
    this.watcher = w;
    const onBatch = follow.onBatch;
    w.on("data", (res: IWatchResponse) => {
      for (const b of this.batches(res)) onBatch(b);
    });
    w.on("disconnected", (e) => {
      if (!this.closed) this.log(`etcd ${this.url.text}: watch disconnected (${e.message}); serving the last config, reconnecting`);
    });
    w.on("connected", () => {
      if (!this.closed) this.log(`etcd ${this.url.text}: watch connected`);
    });
    w.on("error", (e) => {
      if (this.closed) return;
      this.log(`etcd ${this.url.text}: watch error: ${e.message}`);
      if (/cancel/i.test(e.message)) void this.resync(e.message);
    });
  }

  /**
   * The watch was canceled (its revision compacted away while it was disconnected): read the whole
   * prefix again, hand it over as the state to adopt, and watch on from there. Retried (jittered,
   * 1–2 s) while etcd cannot be read.
   */
  private async resync(why: string): Promise<void> {
    this.log(`etcd ${this.url.text}: watch lost its place (${why}); reading everything again`);
    while (!this.closed) {
      try {
        const state = await this.load();
        this.follow!.onResync(state);
        await this.startWatch(state.readRevision);
        return;
      } catch (e) {
        this.log(`etcd ${this.url.text}: resync failed (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1_000 + this.random.next() * 1_000));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // Not awaited: a cancel while the watch reconnects (etcd was away) waits for the reconnection;
    // closing the client ends it anyway.
    void this.watcher?.cancel().catch(() => {});
    this.client.close();
  }

  /** The events of a watch response as batches, one per revision. */
  private batches(res: IWatchResponse): ExternalChange[] {
    const byRevision = new Map<number, { put: Map<string, { resource: Resource; meta: ResourceMeta }>; removed: string[]; actor: { by: string; at: Date } | null }>();
    const unusable: Diagnostic[] = [];
    for (const ev of res.events) {
      const name = ev.kv.key.toString();
      const rev = Number(ev.kv.mod_revision);
      if (name === this.revocationsKey) {
        this.revocationsRevision = ev.type === "Delete" ? 0 : rev;
        this.deliverRevocations(ev.type === "Delete" ? [] : this.decodeRevocations(ev.kv));
        continue;
      }
      // Keys beside the config (the leader, the CA's ledger and root) are no config change.
      if (name !== this.guardKey && !name.startsWith(this.key(""))) continue;
      let b = byRevision.get(rev);
      if (b === undefined) byRevision.set(rev, (b = { put: new Map(), removed: [], actor: null }));
      if (!name.startsWith(this.key(""))) continue;
      const k = name.slice(this.key("").length);
      if (ev.type === "Delete") {
        b.removed.push(k);
        continue;
      }
      const r = this.decode(ev.kv, unusable);
      if (r === null) continue;
      b.put.set(k, { resource: r.resource, meta: r.meta });
      if (r.changed && b.actor === null) b.actor = { by: r.changed.by, at: new Date(r.changed.at) };
    }
    for (const d of unusable) this.log(`etcd ${this.url.text}: ${d.message}`);
    return [...byRevision].sort(([a], [b]) => a - b).map(([revision, b]) => ({ ...b, revision }));
  }

  private deliverRevocations(entries: Revocation[]): void {
    if (this.revocationsListener !== null) this.revocationsListener(entries);
    else this.pendingRevocations = entries;
  }

  private decodeRevocations(kv: IKeyValue): Revocation[] {
    try {
      const v = JSON.parse(kv.value.toString()) as unknown;
      if (Array.isArray(v)) return v.filter((e): e is Revocation => isObject(e) && (typeof e.serial === "string" || typeof e.identity === "string"));
    } catch {
      // reported below
    }
    this.log(`etcd ${this.url.text}: ${kv.key.toString()} does not hold a revocation list; ignored`);
    return [];
  }

  private decode(kv: IKeyValue, unusable: Diagnostic[]): { resource: Resource; meta: ResourceMeta; changed: StoredValue["changed"] } | null {
    const name = kv.key.toString();
    let v: unknown;
    try {
      v = JSON.parse(kv.value.toString());
    } catch {
      v = null;
    }
    if (!isObject(v) || !isObject(v.body) || !isObject(v.source) || typeof v.generation !== "number") {
      unusable.push({ level: "error", code: "AMM2003", message: `etcd key ${name} does not hold a stored resource; it is skipped`, resource: "", path: "", source: { file: name, line: 0, column: 0 } });
      return null;
    }
    const value = v as unknown as StoredValue;
    const resource = resourceFromJson(value.body, { file: String(value.source.file), line: Number(value.source.line) || 0, column: Number(value.source.column) || 0 }, unusable);
    if (resource === null) return null;
    return { resource, meta: { resourceVersion: Number(kv.mod_revision), generation: value.generation }, changed: value.changed };
  }
}

/** Decorrelated-jitter exponential backoff in [base, cap] (what the watch waits before reconnecting). */
function jitteredBackoff(random: Random, base: number, cap: number, last = base): { duration: number; next: () => ReturnType<typeof jitteredBackoff> } {
  const duration = Math.min(cap, base + random.next() * (last * 3 - base));
  return { duration, next: () => jitteredBackoff(random, base, cap, duration) };
}
