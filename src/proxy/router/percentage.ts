// Percentage draws for faults and mirrors. Istio turns percentage{value} into an Envoy
// FractionalPercent per million; a request is picked when a uniform draw falls below it. 0 and
// 100 are decided without drawing, so configs without partial percentages consume no randomness.

import type { Random } from "../../core/random.ts";

export function percentHit(percentage: number, random: Random): boolean {
  if (!(percentage > 0)) return false;
  if (percentage >= 100) return true;
  return random.next() * 100 < percentage;
}
