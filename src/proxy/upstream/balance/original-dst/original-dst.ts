// PASSTHROUGH (Envoy ORIGINAL_DST cluster, what Istio generates for PASSTHROUGH and for
// passthrough traffic): the upstream is the connection's original destination, which the engine
// passes in PickContext.originalDestination. Hosts are cached per address:port so per-host state
// (active requests, connection pools keyed by Host) carries across requests, and the cache is
// bounded (Envoy cleans unused original-dst hosts on a timer; here the oldest are dropped).
import type { Balancer, BalancerDeps, Host, HostSetView, PickContext } from "../balancer.ts";
import type { LoadBalancerConfig } from "../../../../model/proxy-config.ts";
import { hostKey, makeHost } from "../host-set.ts";

/** Bound on remembered destinations. */
export const MAX_ORIGINAL_DST_HOSTS = 1024;

export class OriginalDstBalancer implements Balancer {
  private readonly hosts = new Map<string, Host>();
  private readonly onDropped: ((host: Host) => void) | undefined;

  constructor(onDropped?: (host: Host) => void) {
    this.onDropped = onDropped;
  }

  pick(ctx?: PickContext): Host | null {
    const dst = ctx?.originalDestination;
    if (!dst) return null;
    const key = hostKey(dst.address, dst.port);
    let h = this.hosts.get(key);
    if (!h) {
      if (this.hosts.size >= MAX_ORIGINAL_DST_HOSTS) {
        // Drop the oldest idle entry (Map keeps insertion order).
        for (const [k, old] of this.hosts) {
          if (old.activeRequests === 0) {
            this.hosts.delete(k);
            this.onDropped?.(old);
            break;
          }
        }
      }
      h = makeHost({ address: dst.address, port: dst.port, weight: 1, labels: {}, healthy: true });
      this.hosts.set(key, h);
    }
    return h;
  }

  get size(): number {
    return this.hosts.size;
  }
}

export function createOriginalDst(_hostSet?: HostSetView, _config?: LoadBalancerConfig, deps?: BalancerDeps): OriginalDstBalancer {
  return new OriginalDstBalancer(deps?.onHostDropped);
}
