import assert from "node:assert/strict";
import { test } from "node:test";
import { durationError, parseDurationNanos } from "./duration.ts";

test("protobuf and Go duration syntaxes", () => {
  assert.equal(parseDurationNanos("1.5s"), 1_500_000_000n);
  assert.equal(parseDurationNanos("1m30s"), 90_000_000_000n);
  assert.equal(parseDurationNanos("1h"), 3_600_000_000_000n);
  assert.equal(parseDurationNanos("100ms"), 100_000_000n);
  assert.equal(parseDurationNanos("10us"), 10_000n);
  assert.equal(parseDurationNanos("1ns"), 1n);
  assert.equal(parseDurationNanos("3.000000042s"), 3_000_000_042n);
  assert.equal(parseDurationNanos("0"), 0n);
  assert.equal(parseDurationNanos("-2s"), -2_000_000_000n);
  for (const bad of ["", "10", "s", "1.5", "1 s", "1d", "abc", "1s2"]) assert.equal(parseDurationNanos(bad), null, bad);
});

test("Istio duration rules", () => {
  assert.equal(durationError(999_999n), "duration must be greater than 1ms");
  assert.equal(durationError(3_000_000_042n), "only durations to ms precision are supported");
  assert.equal(durationError(0n), "duration must be greater than 1ms");
  assert.equal(durationError(0n, { allowZero: true }), null);
  assert.equal(durationError(1_000_000n), null);
});
