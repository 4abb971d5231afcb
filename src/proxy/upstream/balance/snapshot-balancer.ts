// Shared base for policies that pick from HostSetView.pickable: rebuilds the policy's tables
// lazily when the host set's version moves (membership, weights or health changed), like
// Envoy's per-priority LB refresh on host set updates.
import type { Balancer, Host, HostSetView, PickContext } from "./balancer.ts";

export abstract class SnapshotBalancer implements Balancer {
  protected readonly hostSet: HostSetView;
  /** The pickable hosts the current tables were built from. */
  protected list: readonly Host[] = [];
  private builtVersion = -1;

  constructor(hostSet: HostSetView) {
    this.hostSet = hostSet;
  }

  pick(ctx?: PickContext): Host | null {
    if (this.builtVersion !== this.hostSet.version) {
      this.list = this.hostSet.pickable;
      this.builtVersion = this.hostSet.version;
      if (this.list.length > 0) this.rebuild(this.list);
    }
    if (this.list.length === 0) return null;
    return this.choose(ctx);
  }

  /** Recompute tables for a new pickable list (never empty when choose() runs). */
  protected abstract rebuild(list: readonly Host[]): void;
  protected abstract choose(ctx: PickContext | undefined): Host;
}

/**
 * Index of the first host at or after `start` (circularly) that `exclude` accepts; `start`
 * itself when every host is excluded (retrying on a tried host beats failing the request).
 */
export function nextAllowed(list: readonly Host[], start: number, exclude: ((h: Host) => boolean) | undefined): number {
  if (!exclude) return start;
  const n = list.length;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    if (!exclude(list[i]!)) return i;
  }
  return start;
}

/** True when every host has the same weight (Envoy switches to the unweighted fast paths). */
export function weightsEqual(list: readonly Host[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i]!.weight !== list[0]!.weight) return false;
  return true;
}
