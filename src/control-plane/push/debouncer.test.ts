import assert from "node:assert/strict";
import { it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { Debouncer } from "./debouncer.ts";

it("fires once, quietMs after the last trigger of a burst", () => {
  const clock = new FakeClock();
  const fired: number[] = [];
  const d = new Debouncer(clock, 50, 1000, () => fired.push(clock.now()));
  d.trigger();
  clock.advance(30);
  d.trigger();
  clock.advance(30);
  d.trigger();
  assert.deepEqual(fired, []);
  clock.advance(49);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, [110]);
  clock.advance(500);
  assert.deepEqual(fired, [110], "nothing pending, nothing fires");
});

it("a steady trickle of triggers fires at maxWaitMs after the first", () => {
  const clock = new FakeClock();
  const fired: number[] = [];
  const d = new Debouncer(clock, 50, 200, () => fired.push(clock.now()));
  for (let t = 0; t < 500; t += 20) {
    d.trigger();
    clock.advance(20);
  }
  assert.deepEqual(fired, [200, 400]);
});

it("flush fires a pending push now; cancel drops it", () => {
  const clock = new FakeClock();
  let n = 0;
  const d = new Debouncer(clock, 50, 200, () => n++);
  d.flush();
  assert.equal(n, 0);
  d.trigger();
  assert.equal(d.pending, true);
  d.flush();
  assert.equal(n, 1);
  d.trigger();
  d.cancel();
  clock.advance(1000);
  assert.equal(n, 1);
  assert.equal(clock.pending(), 0);
});
