// Which replica holds a push stream of which proxy, kept in etcd so the leader can tell a proxy
// that is gone from one that moved to another replica (leader/registration-reaper.ts):
// - `<prefix>connected/<node>/<replica>` exists while this replica has a stream of `node`; it is
//   attached to this replica's own lease, so the marks of a replica that dies go when its lease
//   ends (a graceful stop revokes the lease: its proxies were drained to other replicas first);
// - `<prefix>streams/<node>` is put (no lease) every time a stream of `node` opens at any replica:
//   the proxy has connected once, so its registration is one the leader may clean up (Istio cleans
//   only auto-registered WorkloadEntries, the ones a connecting proxy made), and the leader's
//   removal is a transaction on this key's revision, so a proxy connecting meanwhile stops it.
// The mark is put before `streams/<node>`: a reader that saw the older `streams/<node>` and then
// reads the marks sees this one. Changes of one node are applied in order (a quick close and
// reopen never leaves the mark deleted). etcd unreachable: logged; the lease's loss re-puts all.
// The same lease holds `<prefix>replicas/<replica>` (this replica is alive: a root rotation waits
// for every live replica, store/etcd/shared-rotation.ts) and what other work puts on it (onLease).
import type { Etcd3, Lease, PutBuilder } from "etcd3";

export interface StreamMarksOptions {
  client: Etcd3;
  prefix: string;
  replica: string;
  /** TTL of this replica's lease (whole seconds, at least etcd's minimum). */
  ttlSeconds: number;
  log: (line: string) => void;
}

export function connectedPrefix(prefix: string, node?: string): string {
  return node === undefined ? `${prefix}connected/` : `${prefix}connected/${encodeURIComponent(node)}/`;
}

export function streamsKey(prefix: string, node: string): string {
  return `${prefix}streams/${encodeURIComponent(node)}`;
}

export class StreamMarks {
  readonly #o: StreamMarksOptions;
  readonly #connected = new Set<string>();
  readonly #queue = new Map<string, Promise<void>>();
  #lease: Lease | null = null;
  #closed = false;

  constructor(o: StreamMarksOptions) {
    this.#o = o;
  }

  /** Grant this replica's lease (the start waits for it: a replica that cannot reach etcd does not start). */
  async start(): Promise<void> {
    const lease = this.#grant();
    await lease.grant();
    await lease.put(this.#presenceKey()).value(this.#o.replica).exec();
  }

  /** A put of `key` attached to this replica's lease (the key goes when the replica does). */
  onLease(key: string, value: string): PutBuilder {
    return (this.#lease as Lease).put(key).value(value);
  }

  #presenceKey(): string {
    return `${this.#o.prefix}replicas/${encodeURIComponent(this.#o.replica)}`;
  }

  /** `node`'s stream at this replica opened (true) or closed (false). */
  set(node: string, connected: boolean): void {
    if (this.#closed || connected === this.#connected.has(node)) return;
    if (connected) this.#connected.add(node);
    else this.#connected.delete(node);
    this.#enqueue(node);
  }

  /** Wait until every change so far reached etcd (or failed). */
  async settled(): Promise<void> {
    while (this.#queue.size > 0) await Promise.all([...this.#queue.values()]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.settled();
    await this.#lease?.revoke().catch(() => {});
  }

  #grant(): Lease {
    const lease = this.#o.client.lease(this.#o.ttlSeconds);
    this.#lease = lease;
    lease.on("lost", (e) => {
      if (this.#closed || this.#lease !== lease) return;
      this.#o.log(`etcd: stream marks lease lost (${e.message}); granting a new one and marking ${this.#connected.size} connected proxies again`);
      const next = this.#grant();
      void next.put(this.#presenceKey()).value(this.#o.replica).exec().catch((err: unknown) => this.#o.log(`etcd: replica presence not written: ${(err as Error).message}`));
      for (const node of this.#connected) this.#enqueue(node);
    });
    return lease;
  }

  #enqueue(node: string): void {
    const prev = this.#queue.get(node) ?? Promise.resolve();
    const next = prev.then(() => this.#write(node)).catch((e: unknown) => {
      if (!this.#closed) this.#o.log(`etcd: stream mark of ${node} not written: ${(e as Error).message}`);
    }).finally(() => {
      if (this.#queue.get(node) === next) this.#queue.delete(node);
    });
    this.#queue.set(node, next);
  }

  /** Make etcd say what this replica knows now (not what it knew when the change was queued). */
  async #write(node: string): Promise<void> {
    const { client, prefix, replica } = this.#o;
    const mark = connectedPrefix(prefix, node) + encodeURIComponent(replica);
    if (!this.#connected.has(node)) {
      await client.delete().key(mark).exec();
      return;
    }
    await (this.#lease as Lease).put(mark).value(replica).exec();
    await client.put(streamsKey(prefix, node)).value(replica).exec();
  }
}
