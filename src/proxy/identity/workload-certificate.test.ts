import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkloadCertificate } from "./workload-certificate.ts";

const fixed = (v: number) => ({ next: () => v, int: (n: number) => Math.floor(v * n) });

test("rotation is due at half the remaining lifetime, ±1 % jitter (Istio's grace ratio 0.5)", () => {
  // 24 h certificate received at t=0.
  const day = 24 * 3600_000;
  assert.equal(WorkloadCertificate.rotateAt(0, day, fixed(0.5)), day / 2);
  assert.equal(WorkloadCertificate.rotateAt(0, day, fixed(0)), day - 0.49 * day);
  assert.equal(WorkloadCertificate.rotateAt(0, day, fixed(1)), day - 0.51 * day);
  // Received late in its life (a NotBefore 2 min back does not count): half of what is left.
  assert.equal(WorkloadCertificate.rotateAt(1000, 7000, fixed(0.5)), 4000);
});
