// MAGLEV (Envoy MaglevLoadBalancer, after Google's Maglev paper): a lookup table of a prime size M
// (default 65537) filled by letting hosts take turns claiming slots along their own permutation
// offset, offset+skip, offset+2*skip, ... (mod M); a weighted host takes a turn on every
// iteration in proportion to weight/maxWeight. A request uses table[hash mod M]. Faster builds
// and picks than a ring; about twice the key movement of ring hash when hosts change.
//
// offset = xxHash32(key, seed 0) mod M, skip = xxHash32(key, seed 1) mod (M - 1) + 1 (Envoy:
// xxHash64 with seeds 0/1). Hosts are sorted by address:port first so every proxy builds the
// same table whatever order EDS listed them in.
import type { Random } from "../../../../core/random.ts";
import type { LoadBalancerConfig } from "../../../../model/proxy-config.ts";
import type { BalancerDeps, Host, HostSetView, PickContext } from "../balancer.ts";
import { SnapshotBalancer } from "../snapshot-balancer.ts";
import { xxhash32 } from "../xxhash32.ts";

export const DEFAULT_TABLE_SIZE = 65537;

export class MaglevBalancer extends SnapshotBalancer {
  private readonly random: Random;
  readonly tableSize: number;
  private table = new Int32Array(0);

  /** tableSize must be prime (validation rejects others); non-primes still work, less evenly. */
  constructor(hostSet: HostSetView, deps: BalancerDeps, tableSize = DEFAULT_TABLE_SIZE) {
    super(hostSet);
    this.random = deps.random;
    this.tableSize = tableSize >= 2 ? Math.floor(tableSize) : DEFAULT_TABLE_SIZE;
  }

  protected rebuild(list: readonly Host[]): void {
    const M = this.tableSize;
    const order = list.map((_, i) => i).sort((a, b) => (list[a]!.key < list[b]!.key ? -1 : list[a]!.key > list[b]!.key ? 1 : a - b));
    const count = order.length;
    const offset = new Float64Array(count);
    const skip = new Float64Array(count);
    const next = new Float64Array(count);
    const weight = new Float64Array(count);
    const targetWeight = new Float64Array(count);
    let maxWeight = 0;
    let total = 0;
    for (const i of order) total += list[i]!.weight;
    for (let e = 0; e < count; e++) {
      const h = list[order[e]!]!;
      offset[e] = xxhash32(h.key, 0) % M;
      skip[e] = (xxhash32(h.key, 1) % (M - 1)) + 1;
      weight[e] = h.weight / total;
      maxWeight = Math.max(maxWeight, weight[e]!);
    }
    const table = new Int32Array(M).fill(-1);
    let filled = 0;
    for (let iteration = 1; filled < M; iteration++) {
      for (let e = 0; e < count && filled < M; e++) {
        // A host with the max weight claims a slot every iteration; weight w every maxW/w.
        if (iteration * weight[e]! < targetWeight[e]!) continue;
        targetWeight[e] = targetWeight[e]! + maxWeight;
        let c = (offset[e]! + skip[e]! * next[e]!) % M;
        while (table[c] !== -1) {
          next[e] = next[e]! + 1;
          c = (offset[e]! + skip[e]! * next[e]!) % M;
        }
        table[c] = order[e]!;
        next[e] = next[e]! + 1;
        filled++;
      }
    }
    this.table = table;
  }

  protected choose(ctx: PickContext | undefined): Host {
    const h = ctx?.hash ?? this.random.int(0x100000000);
    const M = this.tableSize;
    const slot = (h >>> 0) % M;
    const list = this.list;
    const chosen = list[this.table[slot]!]!;
    const exclude = ctx?.exclude;
    if (!exclude || !exclude(chosen)) return chosen;
    for (let k = 1; k < M; k++) {
      const cand = list[this.table[(slot + k) % M]!]!;
      if (!exclude(cand)) return cand;
    }
    return chosen;
  }
}

export function createMaglev(hostSet: HostSetView, config: LoadBalancerConfig, deps: BalancerDeps): MaglevBalancer {
  return new MaglevBalancer(hostSet, deps, config.tableSize ?? DEFAULT_TABLE_SIZE);
}
