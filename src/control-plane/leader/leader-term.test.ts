import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_LEADER_TIMING, LeaderTerm, timingProblem } from "./leader-term.ts";

describe("LeaderTerm", () => {
  it("holds until renewDeadline after the send of the last answered keepalive", () => {
    const t = new LeaderTerm(10_000);
    assert.equal(t.holds(0), false);
    t.renewed(1_000);
    assert.equal(t.holds(10_999), true);
    assert.equal(t.holds(11_000), false);
    t.renewed(3_000);
    assert.equal(t.until, 13_000);
  });

  it("a late answer to an older keepalive does not shorten the term", () => {
    const t = new LeaderTerm(10_000);
    t.renewed(5_000);
    t.renewed(2_000);
    assert.equal(t.until, 15_000);
  });

  it("ends at once on end()", () => {
    const t = new LeaderTerm(10_000);
    t.renewed(0);
    t.end();
    assert.equal(t.holds(1), false);
  });
});

describe("timingProblem", () => {
  it("accepts client-go's defaults (15 s lease, 10 s renew deadline, 2 s retry)", () => {
    assert.deepEqual(DEFAULT_LEADER_TIMING, { leaseTtlMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    assert.equal(timingProblem(DEFAULT_LEADER_TIMING), null);
  });

  for (const [what, t] of [
    ["a TTL that is not whole seconds", { leaseTtlMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 500 }],
    ["a renew deadline not below the TTL", { leaseTtlMs: 5000, renewDeadlineMs: 5000, retryPeriodMs: 500 }],
    ["a retry period not below the renew deadline", { leaseTtlMs: 5000, renewDeadlineMs: 3000, retryPeriodMs: 3000 }],
  ] as const) {
    it(`refuses ${what}`, () => assert.match(timingProblem(t) ?? "", /ms/));
  }
});
