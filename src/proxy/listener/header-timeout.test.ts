import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../testing/fake-clock.ts";
import { HeaderTimeouts, type HeadWaiter } from "./header-timeout.ts";

function waiter(log: string[], name: string): HeadWaiter {
  return { headStartMs: 0, onHeaderTimeout: () => log.push(`${name}@`) };
}

describe("HeaderTimeouts", () => {
  it("fires for each head still incomplete timeoutMs after its first bytes, oldest first, on one timer", () => {
    const clock = new FakeClock();
    const t = new HeaderTimeouts(clock, 10_000);
    const log: string[] = [];
    const a = waiter(log, "a");
    const b = waiter(log, "b");
    const c = waiter(log, "c");
    t.start(a);
    clock.advance(3_000);
    t.start(b);
    t.start(b); // a second partial read of the same head does not restart its clock
    clock.advance(1_000);
    t.start(c);
    assert.equal(clock.pending(), 1, "one timer for the listener, not one per connection");
    t.stop(c); // c's head completed
    clock.advance(5_999);
    assert.deepEqual(log, []);
    clock.advance(1);
    assert.deepEqual(log, ["a@"]);
    clock.advance(2_999);
    assert.deepEqual(log, ["a@"]);
    clock.advance(1);
    assert.deepEqual(log, ["a@", "b@"]);
    clock.advance(60_000);
    assert.deepEqual(log, ["a@", "b@"], "c completed in time");
    assert.equal(clock.pending(), 0);
  });

  it("0 is off; a config push applies a new timeout to heads already waiting", () => {
    const clock = new FakeClock();
    const t = new HeaderTimeouts(clock, 0);
    const log: string[] = [];
    const a = waiter(log, "a");
    t.start(a);
    assert.equal(t.size, 0);
    t.setTimeout(10_000);
    t.start(a);
    clock.advance(2_000);
    t.setTimeout(1_000);
    clock.advance(0);
    assert.deepEqual(log, ["a@"]);
    t.start(waiter(log, "b"));
    t.close();
    clock.advance(60_000);
    assert.deepEqual(log, ["a@"]);
  });
});
