// RANDOM: a uniform pick with equal weights; with unequal weights a pick in proportion to weight
// (cumulative weights + binary search). Envoy's random LB: no per-pick state, good without
// health checking.
import type { Random } from "../../../../core/random.ts";
import type { BalancerDeps, Host, HostSetView, PickContext } from "../balancer.ts";
import { SnapshotBalancer, nextAllowed, weightsEqual } from "../snapshot-balancer.ts";

export class RandomBalancer extends SnapshotBalancer {
  private readonly random: Random;
  /** Cumulative weights when unequal, else null. */
  private cumulative: Float64Array | null = null;

  constructor(hostSet: HostSetView, deps: BalancerDeps) {
    super(hostSet);
    this.random = deps.random;
  }

  protected rebuild(list: readonly Host[]): void {
    this.cumulative = null;
    if (!weightsEqual(list)) {
      const c = new Float64Array(list.length);
      let sum = 0;
      for (let i = 0; i < list.length; i++) c[i] = sum += list[i]!.weight;
      this.cumulative = c;
    }
  }

  protected choose(ctx: PickContext | undefined): Host {
    const list = this.list;
    const i = this.cumulative ? weightedIndex(this.cumulative, this.random.next()) : this.random.int(list.length);
    return list[nextAllowed(list, i, ctx?.exclude)]!;
  }
}

/** Index whose cumulative range holds u * total. */
export function weightedIndex(cumulative: Float64Array, u: number): number {
  const target = u * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function createRandom(hostSet: HostSetView, _config: unknown, deps: BalancerDeps): RandomBalancer {
  return new RandomBalancer(hostSet, deps);
}
