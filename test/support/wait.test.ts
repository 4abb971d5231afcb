// test/support/wait.ts: waits resolve on the event and fail naming what they waited for.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Gate, waitFor, within } from "./wait.ts";

describe("test/support/wait.ts", () => {
  it("waitFor resolves with the first truthy value; a check that throws counts as not yet", async () => {
    let n = 0;
    const v = await waitFor(
      () => {
        n++;
        if (n < 3) throw new Error("not yet");
        return n === 4 ? "four" : null;
      },
      { what: "n to reach 4", everyMs: 1 },
    );
    assert.equal(v, "four");
  });

  it("waitFor fails naming what it waited for and the check's last error", async () => {
    await assert.rejects(
      waitFor(
        () => {
          throw new Error("still down");
        },
        { what: "the server to come up", timeoutMs: 30, everyMs: 5 },
      ),
      /timed out after 30 ms waiting for the server to come up; last error: still down/,
    );
  });

  it("within passes the event's value or error through, and fails naming the event when it never comes", async () => {
    assert.equal(await within(Promise.resolve(7), { what: "seven" }), 7);
    await assert.rejects(within(Promise.reject(new Error("boom")), { what: "x" }), /boom/);
    await assert.rejects(within(new Promise(() => {}), { what: "the close", timeoutMs: 20 }), /timed out after 20 ms waiting for the close/);
  });

  it("a Gate holds until opened", async () => {
    const g = new Gate();
    let passed = false;
    const p = g.opened.then(() => (passed = true));
    await Promise.resolve();
    assert.equal(passed, false);
    assert.equal(g.isOpen, false);
    g.open();
    await p;
    assert.equal(passed, true);
    assert.equal(g.isOpen, true);
  });
});
