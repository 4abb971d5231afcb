// ROUND_ROBIN (Envoy RoundRobinLoadBalancer): equal weights rotate through the hosts; unequal
// weights use an EDF schedule so each host gets weight/sum of the picks, interleaved smoothly.
// The rotation starts at a random offset so many proxies do not hit the same host in lockstep.
import type { Random } from "../../../../core/random.ts";
import type { BalancerDeps, Host, HostSetView, PickContext } from "../balancer.ts";
import { EdfScheduler } from "../edf-scheduler.ts";
import { SnapshotBalancer, nextAllowed, weightsEqual } from "../snapshot-balancer.ts";

export class RoundRobinBalancer extends SnapshotBalancer {
  private readonly random: Random;
  private rr: number;
  private edf: EdfScheduler | null = null;
  private readonly staticWeight = (i: number): number => this.list[i]!.weight;

  constructor(hostSet: HostSetView, deps: BalancerDeps) {
    super(hostSet);
    this.random = deps.random;
    this.rr = deps.random.int(1 << 30);
  }

  protected rebuild(list: readonly Host[]): void {
    this.edf = null;
    if (list.length > 1 && !weightsEqual(list)) {
      this.edf = new EdfScheduler(list.map((h) => h.weight));
      // Random number of initial picks: different proxies start at different schedule points.
      const skip = this.random.int(list.length);
      for (let i = 0; i < skip; i++) this.edf.pickAndAdd(this.staticWeight);
    }
  }

  protected choose(ctx: PickContext | undefined): Host {
    const list = this.list;
    const exclude = ctx?.exclude;
    if (this.edf === null) {
      const i = this.rr % list.length;
      this.rr = (this.rr + 1) % 0x40000000;
      return list[nextAllowed(list, i, exclude)]!;
    }
    const first = this.edf.pickAndAdd(this.staticWeight);
    if (!exclude || !exclude(list[first]!)) return list[first]!;
    // Keep walking the schedule (a weighted choice among the rest) for up to one round (Envoy
    // re-runs the pick up to host_selection_retry_max_attempts times instead).
    for (let k = 1; k < this.edf.length; k++) {
      const i = this.edf.pickAndAdd(this.staticWeight);
      if (!exclude(list[i]!)) return list[i]!;
    }
    // A light host may be further out in the schedule: take the next allowed host in order.
    const j = nextAllowed(list, (first + 1) % list.length, exclude);
    return exclude(list[j]!) ? list[first]! : list[j]!;
  }
}

export function createRoundRobin(hostSet: HostSetView, _config: unknown, deps: BalancerDeps): RoundRobinBalancer {
  return new RoundRobinBalancer(hostSet, deps);
}
