// HistoryCompactor: the leader's once-only work on etcd. etcd keeps every old revision of every key
// until someone compacts it; without that its database grows with every apply, revocation and
// leader change until it hits its quota and refuses writes. As kube-apiserver does every 5 minutes
// (--etcd-compaction-interval), the leader compacts to the revision it read one interval earlier,
// so watchers have an interval's worth of history to resume from (one further behind reads
// everything again: etcd-store.ts, "watch lost its place"). Two replicas compacting would be
// harmless but wasteful; a follower never compacts, a leader checks it still leads just before.
import type { Etcd3 } from "etcd3";
import type { Clock, TimerHandle } from "../../core/clock.ts";

/** kube-apiserver's default --etcd-compaction-interval. */
export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60_000;

export interface HistoryCompactorOptions {
  client: Etcd3;
  /** Any key under the prefix (read for the current revision). */
  probeKey: string;
  clock: Clock;
  intervalMs: number;
  /** Whether this replica still leads (checked right before compacting). */
  leading: () => boolean;
  log: (line: string) => void;
  /** A compaction was done (tests wait on it). */
  onCompacted?: (revision: number) => void;
}

export class HistoryCompactor {
  readonly #o: HistoryCompactorOptions;
  #timer: TimerHandle | null = null;
  /** The revision read at the previous tick: the next compaction goes up to it. */
  #previous: number | null = null;

  constructor(o: HistoryCompactorOptions) {
    this.#o = o;
  }

  /** This replica became leader: read the revision now, compact to it one interval later. */
  start(): void {
    this.stop();
    void this.#tick();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#previous = null;
  }

  async #tick(): Promise<void> {
    const { client, probeKey, clock, intervalMs, leading, log } = this.#o;
    try {
      const now = Number((await client.get(probeKey).exec()).header.revision);
      const target = this.#previous;
      if (target !== null && target > 1 && leading()) {
        try {
          await client.kv.compact({ revision: String(target) });
          log(`etcd history compacted to revision ${target} (leader work, every ${intervalMs / 1000} s)`);
          this.#o.onCompacted?.(target);
        } catch (e) {
          // Another compaction (an operator's, a former leader's) went further already.
          if (!/compacted/i.test((e as Error).message)) throw e;
        }
      }
      this.#previous = now;
    } catch (e) {
      log(`etcd history compaction skipped: ${(e as Error).message}`);
    }
    if (!leading()) return;
    this.#timer = clock.setTimeout(() => void this.#tick(), intervalMs);
    this.#timer.unref();
  }
}
