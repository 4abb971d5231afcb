import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RestartBackoff, shouldRestart } from "./backoff.ts";

describe("RestartBackoff", () => {
  it("doubles from 1 s and caps at 30 s", () => {
    const b = new RestartBackoff();
    assert.deepEqual([0, 0, 0, 0, 0, 0, 0, 0].map(() => b.next(100)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  it("starts over after a process ran long enough", () => {
    const b = new RestartBackoff({ resetAfterMs: 5000 });
    b.next(10);
    b.next(10);
    assert.equal(b.next(10), 4000);
    assert.equal(b.next(5000), 1000);
    assert.equal(b.next(4999), 2000);
  });
});

describe("shouldRestart", () => {
  const table: [Parameters<typeof shouldRestart>[0], number | null, boolean][] = [
    ["Always", 0, true], ["Always", 1, true], ["Always", null, true],
    ["OnFailure", 0, false], ["OnFailure", 3, true], ["OnFailure", null, true],
    ["Never", 0, false], ["Never", 1, false], ["Never", null, false],
  ];
  for (const [policy, code, want] of table) {
    it(`${policy} after exit ${code} → ${want}`, () => assert.equal(shouldRestart(policy, code), want));
  }
});
