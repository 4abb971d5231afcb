// LEAST_REQUEST (Envoy LeastRequestLoadBalancer, Istio's default): with equal weights, the power
// of two choices: sample choiceCount (2) hosts at random (with replacement) and take the one
// with the fewest active requests, the first sampled on ties. With unequal weights, an EDF
// schedule whose weight is recomputed when a host is re-inserted after a pick:
//   weight / (activeRequests + 1) ^ activeRequestBias      (bias 1.0 by default)
// so busy hosts fall behind in the schedule; bias 0 is weighted round robin.
import type { Random } from "../../../../core/random.ts";
import type { BalancerDeps, Host, HostSetView, PickContext } from "../balancer.ts";
import { EdfScheduler } from "../edf-scheduler.ts";
import { SnapshotBalancer, nextAllowed, weightsEqual } from "../snapshot-balancer.ts";

export interface LeastRequestOptions {
  /** Envoy choice_count, default 2. */
  choiceCount?: number;
  /** Envoy active_request_bias, default 1.0, >= 0. */
  activeRequestBias?: number;
}

export class LeastRequestBalancer extends SnapshotBalancer {
  private readonly random: Random;
  private readonly choiceCount: number;
  private readonly bias: number;
  private edf: EdfScheduler | null = null;
  private readonly dynamicWeight = (i: number): number => {
    const h = this.list[i]!;
    const active = h.activeRequests + 1;
    if (this.bias === 1) return h.weight / active;
    if (this.bias === 0) return h.weight;
    return h.weight / Math.pow(active, this.bias);
  };

  constructor(hostSet: HostSetView, deps: BalancerDeps, options: LeastRequestOptions = {}) {
    super(hostSet);
    this.random = deps.random;
    this.choiceCount = Math.max(1, options.choiceCount ?? 2);
    this.bias = Math.max(0, options.activeRequestBias ?? 1);
  }

  protected rebuild(list: readonly Host[]): void {
    this.edf = list.length > 1 && !weightsEqual(list) ? new EdfScheduler(list.map((h) => this.dynamicWeightOf(h))) : null;
  }

  private dynamicWeightOf(h: Host): number {
    return h.weight / Math.pow(h.activeRequests + 1, this.bias);
  }

  protected choose(ctx: PickContext | undefined): Host {
    const list = this.list;
    const exclude = ctx?.exclude;
    if (this.edf === null) {
      const n = list.length;
      // One host: every draw would pick it (a cluster of one endpoint, the usual sidecar case).
      if (n === 1) return list[0]!;
      let best = -1;
      for (let c = 0; c < this.choiceCount; c++) {
        const i = nextAllowed(list, this.random.int(n), exclude);
        if (best < 0 || list[i]!.activeRequests < list[best]!.activeRequests) best = i;
      }
      return list[best]!;
    }
    const first = this.edf.pickAndAdd(this.dynamicWeight);
    if (!exclude || !exclude(list[first]!)) return list[first]!;
    for (let k = 1; k < this.edf.length; k++) {
      const i = this.edf.pickAndAdd(this.dynamicWeight);
      if (!exclude(list[i]!)) return list[i]!;
    }
    // A light host may be further out in the schedule: take the next allowed host in order.
    const j = nextAllowed(list, (first + 1) % list.length, exclude);
    return exclude(list[j]!) ? list[first]! : list[j]!;
  }
}

export function createLeastRequest(hostSet: HostSetView, _config: unknown, deps: BalancerDeps): LeastRequestBalancer {
  return new LeastRequestBalancer(hostSet, deps);
}
