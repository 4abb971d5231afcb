import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../core/random.ts";
import type { LbPolicy } from "../../../model/proxy-config.ts";
import { HostSet, UnknownLbPolicyError, balancerFactories, createBalancer } from "./index.ts";

const POLICIES: LbPolicy[] = ["ROUND_ROBIN", "RANDOM", "LEAST_REQUEST", "PASSTHROUGH", "RING_HASH", "MAGLEV"];

describe("balancer registry", () => {
  it("has a factory for every LbPolicy", () => {
    assert.deepEqual(Object.keys(balancerFactories).sort(), [...POLICIES].sort());
  });

  for (const policy of POLICIES) {
    it(`${policy}: picks a host`, () => {
      const hs = new HostSet([{ address: "10.0.0.1", port: 80, weight: 1, labels: {}, healthy: true }]);
      const lb = createBalancer({ policy }, hs, { random: seededRandom(1) });
      const h = lb.pick({ hash: 123, originalDestination: { address: "10.0.0.1", port: 80 } });
      assert.equal(h?.key, "10.0.0.1:80");
    });
  }

  it("unknown policy: a coded error", () => {
    assert.throws(
      () => createBalancer({ policy: "FASTEST" as LbPolicy }, new HostSet([]), { random: seededRandom(1) }),
      (e: unknown) => e instanceof UnknownLbPolicyError && e.code === "LB_UNKNOWN_POLICY",
    );
  });
});
