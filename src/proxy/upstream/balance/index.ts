// Load balancing stage of the upstream pipeline: route → cluster → **balance** → connection pool.
// A registry of policies by name (Envoy's lb_policy), one folder per policy. Adding a policy =
// one folder + one line in `balancerFactories`.
import type { LbPolicy, LoadBalancerConfig } from "../../../model/proxy-config.ts";
import type { Balancer, BalancerDeps, BalancerFactory, HostSetView } from "./balancer.ts";
import { createLeastRequest } from "./least-request/least-request.ts";
import { createMaglev } from "./maglev/maglev.ts";
import { createOriginalDst } from "./original-dst/original-dst.ts";
import { createRandom } from "./random/random.ts";
import { createRingHash } from "./ring-hash/ring-hash.ts";
import { createRoundRobin } from "./round-robin/round-robin.ts";

export const balancerFactories: Readonly<Record<LbPolicy, BalancerFactory>> = {
  ROUND_ROBIN: createRoundRobin,
  RANDOM: createRandom,
  LEAST_REQUEST: createLeastRequest,
  RING_HASH: createRingHash,
  MAGLEV: createMaglev,
  PASSTHROUGH: createOriginalDst,
};

export class UnknownLbPolicyError extends Error {
  readonly code = "LB_UNKNOWN_POLICY";
  constructor(policy: string) {
    super(`balance: unknown load balancing policy ${JSON.stringify(policy)}`);
    this.name = "UnknownLbPolicyError";
  }
}

/** The Balancer for a cluster's lb config over its host set. */
export function createBalancer(config: LoadBalancerConfig, hostSet: HostSetView, deps: BalancerDeps): Balancer {
  const factory = (balancerFactories as Record<string, BalancerFactory | undefined>)[config.policy];
  if (!factory) throw new UnknownLbPolicyError(config.policy);
  return factory(hostSet, config, deps);
}

export type { Balancer, BalancerDeps, BalancerFactory, Host, HostSetView, PickContext } from "./balancer.ts";
export { isHostHealthy } from "./balancer.ts";
export { HostSet, panicThresholdFor, hostKey, makeHost, DEFAULT_PANIC_THRESHOLD_PERCENT } from "./host-set.ts";
export { xxhash32 } from "./xxhash32.ts";
