// Shared checks for the consistent-hash policies (RING_HASH, MAGLEV), used by their tests.
import assert from "node:assert/strict";
import type { Endpoint } from "../../../model/proxy-config.ts";
import type { Balancer, HostSetView } from "./balancer.ts";
import { HostSet } from "./host-set.ts";
import { xxhash32 } from "./xxhash32.ts";

export const endpoints = (weights: number[]): Endpoint[] =>
  weights.map((weight, i) => ({ address: `10.1.0.${i + 1}`, port: 8080, weight, labels: {}, healthy: true }));

export const KEYS = Array.from({ length: 10_000 }, (_, i) => xxhash32(`user-${i}`));

/** Which host key each of KEYS maps to. */
export function assignment(lb: Balancer): string[] {
  return KEYS.map((hash) => lb.pick({ hash })!.key);
}

export interface Movement {
  /** Fraction of all keys whose host changed. */
  moved: number;
  /** Fraction of keys not on the removed host that changed host anyway. */
  collateral: number;
}

/** Remove host `removed` of the set and measure key movement. */
export function removalMovement(make: (hs: HostSetView) => Balancer, n: number, removed: number): Movement {
  const eps = endpoints(new Array<number>(n).fill(1));
  const hs = new HostSet(eps);
  const lb = make(hs);
  const before = assignment(lb);
  const gone = hs.hosts[removed]!.key;
  hs.update(eps.filter((_, i) => i !== removed));
  const after = assignment(lb);
  let moved = 0;
  let others = 0;
  let collateral = 0;
  for (let i = 0; i < KEYS.length; i++) {
    if (before[i] !== after[i]) moved++;
    if (before[i] !== gone) {
      others++;
      if (before[i] !== after[i]) collateral++;
    }
  }
  assert.ok(!after.includes(gone));
  return { moved: moved / KEYS.length, collateral: collateral / others };
}

/** Share of KEYS per host index. */
export function shares(lb: Balancer, hs: HostSetView): number[] {
  const idx = new Map(hs.hosts.map((h) => [h.key, h.index]));
  const c = new Array<number>(hs.hosts.length).fill(0);
  for (const k of assignment(lb)) c[idx.get(k)!]!++;
  return c.map((x) => x / KEYS.length);
}
