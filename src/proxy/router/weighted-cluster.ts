// Weighted split between route destinations (Envoy weighted_clusters): weights are relative, a
// request goes to cluster i with probability weight_i / total.

import type { Random } from "../../core/random.ts";
import type { WeightedCluster } from "../../model/proxy-config.ts";

/**
 * Picks one destination. A single entry wins without drawing (Istio gives it all traffic whatever
 * its weight); a total weight of 0 picks none (the caller answers 503 as Envoy does).
 */
export function pickWeightedCluster(clusters: readonly WeightedCluster[], random: Random): WeightedCluster | undefined {
  const n = clusters.length;
  if (n === 0) return undefined;
  if (n === 1) return clusters[0];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = (clusters[i] as WeightedCluster).weight;
    if (w > 0) total += w;
  }
  if (total <= 0) return undefined;
  let r = random.next() * total;
  let last: WeightedCluster | undefined;
  for (let i = 0; i < n; i++) {
    const c = clusters[i] as WeightedCluster;
    if (!(c.weight > 0)) continue;
    if (r < c.weight) return c;
    r -= c.weight;
    last = c;
  }
  // Floating-point rounding can leave r a hair above the last weight.
  return last;
}
