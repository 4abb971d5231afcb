// LeaderElection: one replica at a time does the work that must happen once (leader-work.ts),
// chosen through etcd. The leader key `<prefix>leader` holds the leader's replica name and is
// attached to its lease: a campaign grants a lease and creates the key in a transaction that
// succeeds only if the key does not exist; the leader keeps the lease alive every retry period;
// the key vanishes when the lease ends (revoked by a leader stepping down, or expired after the TTL
// when the leader died or lost etcd). Followers watch the key and campaign as soon as it is gone,
// and every retry period anyway. A leader that cannot renew steps down on its own clock at
// renewDeadline after its last answered keepalive, before the lease can expire (leader-term.ts).
// Every timer runs on the injected Clock; etcd calls that hang are abandoned after a retry period.
import type { Etcd3, Lease, Watcher } from "etcd3";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import { LeaderTerm, type LeaderTiming } from "./leader-term.ts";

export interface LeaderElectionOptions {
  client: Etcd3;
  /** The leader key (`<prefix>leader`). */
  key: string;
  /** This replica's name, stored as the key's value. */
  replica: string;
  clock: Clock;
  timing: LeaderTiming;
  log: (line: string) => void;
  /** This replica began (true) or stopped (false) leading. */
  onChange?: (leading: boolean) => void;
  /** etcd answered a keepalive sent at `sentAt` (tests wait on it). */
  onRenewed?: (sentAt: number) => void;
}

/** What `GET /api/v1/status` shows. */
export interface LeaderStatus {
  replica: string;
  /** The replica holding the leader key as last seen (null: none, or etcd unreachable). */
  leader: string | null;
  leading: boolean;
}

const ABANDONED = Symbol("abandoned");

export class LeaderElection {
  readonly #o: LeaderElectionOptions;
  readonly #term: LeaderTerm;
  #leader: string | null = null;
  #lease: Lease | null = null;
  #tick: TimerHandle | null = null;
  #stepDown: TimerHandle | null = null;
  #watcher: Watcher | null = null;
  #busy = false;
  #again = false;
  #closed = false;

  constructor(o: LeaderElectionOptions) {
    this.#o = o;
    this.#term = new LeaderTerm(o.timing.renewDeadlineMs);
  }

  get leading(): boolean {
    return this.#lease !== null && this.#term.holds(this.#o.clock.now());
  }

  status(): LeaderStatus {
    const leading = this.leading;
    return { replica: this.#o.replica, leader: leading ? this.#o.replica : this.#leader, leading };
  }

  /** Campaign now and keep at it; hear of the leader key's changes (the watch is made meanwhile). */
  start(): void {
    void this.#watch();
    this.#run();
  }

  async #watch(): Promise<void> {
    try {
      const w = await this.#o.client.watch().key(this.#o.key).create();
      if (this.#closed) {
        await w.cancel();
        return;
      }
      this.#watcher = w;
      w.on("put", (kv) => {
        this.#leader = kv.value.toString();
      });
      w.on("delete", () => {
        this.#leader = null;
        this.#run();
      });
      w.on("error", () => {});
    } catch (e) {
      // No watch (etcd away, or closing): the periodic campaign still finds the key gone.
      if (!this.#closed) this.#o.log(`leader election: cannot watch ${this.#o.key} (${(e as Error).message}); campaigning every ${this.#o.timing.retryPeriodMs} ms`);
    }
  }

  /** Stop campaigning; a leader steps down and revokes its lease, so another replica leads at once. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#tick?.cancel();
    const lease = this.#lease;
    if (lease !== null) {
      this.#end("this replica is stopping");
      await this.#bounded(lease.revoke()).catch(() => {});
    }
    // Not awaited: with etcd away a cancel could wait for its reconnection.
    void this.#watcher?.cancel().catch(() => {});
  }

  /** One round now (a campaign or a keepalive), then the next one a retry period later. */
  #run(): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#tick?.cancel();
    this.#busy = true;
    const round = this.#lease !== null ? this.#renew() : this.#campaign();
    void round.finally(() => {
      this.#busy = false;
      if (this.#closed) return;
      if (this.#again) {
        this.#again = false;
        this.#run();
        return;
      }
      this.#tick = this.#o.clock.setTimeout(() => this.#run(), this.#o.timing.retryPeriodMs);
      this.#tick.unref();
    });
  }

  async #campaign(): Promise<void> {
    const { client, key, replica, clock, timing } = this.#o;
    try {
      const held = await this.#bounded(client.get(key).string());
      if (held === ABANDONED) return;
      if (held !== null) {
        this.#leader = held;
        return;
      }
      const sentAt = clock.now();
      const lease = client.lease(timing.leaseTtlMs / 1000, { autoKeepAlive: false });
      lease.on("lost", () => {});
      const id = await this.#bounded(lease.grant());
      if (id === ABANDONED) {
        lease.release();
        return;
      }
      const res = await this.#bounded(client.if(key, "Create", "==", 0).then(client.put(key).value(replica).lease(id)).else(client.get(key)).commit());
      if (res === ABANDONED || !res.succeeded) {
        if (res !== ABANDONED) this.#leader = res.responses[0]?.response_range?.kvs[0]?.value.toString() ?? null;
        void this.#bounded(lease.revoke()).catch(() => {});
        return;
      }
      if (this.#closed) {
        void this.#bounded(lease.revoke()).catch(() => {});
        return;
      }
      this.#lease = lease;
      this.#leader = replica;
      this.#renewed(sentAt);
      this.#o.log(`leader election: this replica (${replica}) leads (lease ${id}, TTL ${timing.leaseTtlMs / 1000} s)`);
      this.#o.onChange?.(true);
    } catch (e) {
      this.#leader = null;
      this.#o.log(`leader election: campaign failed: ${(e as Error).message}`);
    }
  }

  async #renew(): Promise<void> {
    const lease = this.#lease as Lease;
    const sentAt = this.#o.clock.now();
    try {
      const res = await this.#bounded(lease.keepaliveOnce());
      if (res === ABANDONED || this.#lease !== lease) return;
      this.#renewed(sentAt);
    } catch (e) {
      if (this.#lease !== lease) return;
      // etcd answered that the lease is gone: no waiting for the deadline.
      if ((e as Error).name === "EtcdLeaseInvalidError") this.#end(`its lease ended in etcd (${(e as Error).message})`);
    }
  }

  #renewed(sentAt: number): void {
    this.#term.renewed(sentAt);
    this.#o.onRenewed?.(sentAt);
    this.#armStepDown();
  }

  /** Step down when the term ends (a timer may fire a little early: then it is armed again). */
  #armStepDown(): void {
    this.#stepDown?.cancel();
    const { clock } = this.#o;
    this.#stepDown = clock.setTimeout(() => {
      if (this.#lease === null) return;
      if (this.#term.holds(clock.now())) this.#armStepDown();
      else this.#end(`no keepalive answered for ${this.#o.timing.renewDeadlineMs} ms; its lease (TTL ${this.#o.timing.leaseTtlMs} ms) may end soon`);
    }, Math.max(1, this.#term.until - clock.now()));
    this.#stepDown.unref();
  }

  /** Stop leading now (leader work stops in onChange before this returns). */
  #end(why: string): void {
    const lease = this.#lease;
    if (lease === null) return;
    this.#lease = null;
    this.#leader = null;
    this.#term.end();
    this.#stepDown?.cancel();
    lease.release();
    this.#o.log(`leader election: this replica (${this.#o.replica}) steps down: ${why}`);
    this.#o.onChange?.(false);
  }

  /** `p`, or ABANDONED once a retry period passed without an answer (etcd unreachable). */
  #bounded<T>(p: Promise<T>): Promise<T | typeof ABANDONED> {
    return new Promise((resolve, reject) => {
      const timer = this.#o.clock.setTimeout(() => resolve(ABANDONED), this.#o.timing.retryPeriodMs);
      timer.unref();
      p.then((v) => {
        timer.cancel();
        resolve(v);
      }, (e: unknown) => {
        timer.cancel();
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }
}
