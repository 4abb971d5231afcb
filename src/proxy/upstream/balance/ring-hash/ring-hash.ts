// RING_HASH (Envoy RingHashLoadBalancer, ketama): every host gets entries on a 32-bit hash ring
// in proportion to its weight; a request goes to the first entry at or after its key hash,
// wrapping around. Removing one of N hosts moves only that host's ~1/N of the keys.
//
// Ring size: Envoy gives the lightest host k = ceil(minNormWeight * minimumRingSize) entries and
// every host k * weight / minWeight (running totals, capped at maximumRingSize). Deviation: Amime
// rounds k up to a power of two. Envoy's k changes with every membership change (10 → 9 hosts at
// 1024: 103 → 114 entries per host), and the new entries take keys from the hosts that stayed, so
// removing 1 of 10 hosts moves ~17 % of keys instead of ~10 %. A power-of-two k stays the same
// across most changes, so only the removed host's keys move; the ring is still >= minimumRingSize.
// Entry j of a host hashes `${address:port}_${j}` with xxHash32 (Envoy: xxHash64, 64-bit ring).
import type { Random } from "../../../../core/random.ts";
import type { LoadBalancerConfig } from "../../../../model/proxy-config.ts";
import type { BalancerDeps, Host, HostSetView, PickContext } from "../balancer.ts";
import { SnapshotBalancer } from "../snapshot-balancer.ts";
import { xxhash32 } from "../xxhash32.ts";

/** Istio's default minimumRingSize (Envoy's own default is also 1024). */
export const DEFAULT_MIN_RING_SIZE = 1024;
/** Envoy's default maximum_ring_size (8M entries). */
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;

export class RingHashBalancer extends SnapshotBalancer {
  private readonly random: Random;
  private readonly minRingSize: number;
  private readonly maxRingSize: number;
  private hashes = new Uint32Array(0);
  private owners = new Int32Array(0);

  constructor(hostSet: HostSetView, deps: BalancerDeps, minimumRingSize = DEFAULT_MIN_RING_SIZE, maximumRingSize = DEFAULT_MAX_RING_SIZE) {
    super(hostSet);
    this.random = deps.random;
    this.maxRingSize = Math.max(1, Math.min(maximumRingSize, DEFAULT_MAX_RING_SIZE));
    this.minRingSize = Math.max(1, Math.min(minimumRingSize, this.maxRingSize));
  }

  /** Entries on the current ring (for tests and the admin page). */
  get ringSize(): number {
    return this.hashes.length;
  }

  protected rebuild(list: readonly Host[]): void {
    let total = 0;
    for (const h of list) total += h.weight;
    let minNorm = 1;
    for (const h of list) minNorm = Math.min(minNorm, h.weight / total);
    const perLightest = 2 ** Math.ceil(Math.log2(Math.ceil(minNorm * this.minRingSize - 1e-9)));
    const scale = Math.min(perLightest / minNorm, this.maxRingSize);
    const size = Math.ceil(scale);
    const hashes = new Uint32Array(size + list.length);
    const owners = new Int32Array(size + list.length);
    let n = 0;
    let current = 0;
    let target = 0;
    for (let i = 0; i < list.length; i++) {
      const h = list[i]!;
      target += (scale * h.weight) / total;
      // Running totals across hosts (as Envoy) so rounding never drifts the ring size.
      for (let j = 0; current < target; j++, current++) {
        hashes[n] = xxhash32(`${h.key}_${j}`);
        owners[n] = i;
        n++;
      }
    }
    const order = Array.from({ length: n }, (_, k) => k);
    order.sort((a, b) => hashes[a]! - hashes[b]! || owners[a]! - owners[b]!);
    this.hashes = Uint32Array.from(order, (k) => hashes[k]!);
    this.owners = Int32Array.from(order, (k) => owners[k]!);
  }

  protected choose(ctx: PickContext | undefined): Host {
    // No key: Envoy hashes a random number instead.
    const h = ctx?.hash ?? this.random.int(0x100000000);
    const hashes = this.hashes;
    const n = hashes.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid]! < h >>> 0) lo = mid + 1;
      else hi = mid;
    }
    const start = lo === n ? 0 : lo;
    const list = this.list;
    const chosen = list[this.owners[start]!]!;
    const exclude = ctx?.exclude;
    if (!exclude || !exclude(chosen)) return chosen;
    // Retry host avoidance: walk clockwise to the next entry owned by an allowed host.
    for (let k = 1; k < n; k++) {
      const cand = list[this.owners[(start + k) % n]!]!;
      if (!exclude(cand)) return cand;
    }
    return chosen;
  }
}

export function createRingHash(hostSet: HostSetView, config: LoadBalancerConfig, deps: BalancerDeps): RingHashBalancer {
  return new RingHashBalancer(hostSet, deps, config.minimumRingSize ?? DEFAULT_MIN_RING_SIZE);
}
