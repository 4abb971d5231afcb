import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { emptyConfig } from "../../testing/proxy-context.ts";
import { Sidecar } from "../sidecar.ts";
import { GrowthGc } from "./growth-gc.ts";

const MB = 1024 * 1024;

/**
 * A GrowthGc on a fake clock over a fake heap: an old generation of 6 MB and an empty young one; `grow(n)`
 * adds n MB to the old one, `young(n)` sets the young one's fill; a collection leaves `live` MB and an empty
 * young generation. `oldReads` counts the reads of the old generation (`node:v8` in the sidecar).
 */
function setup() {
  const clock = new FakeClock();
  const state = { heap: 6 * MB, young: 0, live: 6 * MB, gcs: 0, oldReads: 0 };
  const growth = new GrowthGc({
    clock,
    heapUsed: () => state.heap + state.young,
    oldGenerationBytes: () => {
      state.oldReads++;
      return state.heap;
    },
    gc: () => {
      state.gcs++;
      state.heap = state.live;
      state.young = 0;
    },
  });
  growth.start();
  return { clock, state, growth, grow: (n: number) => (state.heap += n * MB), young: (n: number) => (state.young = n * MB) };
}

describe("GrowthGc", () => {
  it("a heap that grows by 0.02 MB a second (a steady load): one collection at the first check 0.5 MB above the last", () => {
    const { clock, state, grow } = setup();
    for (let s = 0; s < 120; s++) {
      grow(0.02);
      clock.advance(1_000);
    }
    assert.equal(state.gcs, 4, "at 30, 60, 90 and 120 s (0.6 MB each)");
    assert.equal(state.heap, 6 * MB, "the heap stays at its live size");
  });

  it("checks every 10 s, not in between: at most one collection per check", () => {
    const { clock, state, grow } = setup();
    grow(5);
    clock.advance(9_999);
    assert.equal(state.gcs, 0);
    clock.advance(1);
    assert.equal(state.gcs, 1);
  });

  it("growth under the bound: no collection, however long", () => {
    const { clock, state, grow } = setup();
    grow(0.4);
    clock.advance(600_000);
    assert.equal(state.gcs, 0);
  });

  it("a quiet heap: no collection", () => {
    const { clock, state } = setup();
    clock.advance(600_000);
    assert.equal(state.gcs, 0);
  });

  it("a live size that grew (a larger config): one collection, then the bound counts from the new size", () => {
    const { clock, state, grow } = setup();
    state.live = 9 * MB;
    grow(3);
    clock.advance(10_000);
    assert.equal(state.gcs, 1);
    clock.advance(60_000);
    assert.equal(state.gcs, 1, "not again at 9 MB");
    grow(0.5);
    clock.advance(10_000);
    assert.equal(state.gcs, 2);
  });

  it("V8's own collection lowers the mark: the bound counts from its live size", () => {
    const { clock, state, grow } = setup();
    grow(0.4);
    clock.advance(10_000);
    state.heap = 5 * MB; // V8 collected
    clock.advance(10_000);
    grow(0.4);
    clock.advance(10_000);
    assert.equal(state.gcs, 0, "5.4 MB: under 5 + 0.5");
    grow(0.2);
    clock.advance(10_000);
    assert.equal(state.gcs, 1, "5.6 MB: 0.6 above V8's 5");
  });

  it("after a collection, a full young generation alone is no growth of the old one", () => {
    const { clock, state, grow, young } = setup();
    grow(1);
    clock.advance(10_000);
    assert.equal(state.gcs, 1);
    young(0.9);
    grow(0.2);
    clock.advance(10_000);
    assert.equal(state.gcs, 1, "heapUsed 1.1 MB up, the old generation 0.2");
    grow(0.3);
    clock.advance(10_000);
    assert.equal(state.gcs, 2, "the old generation 0.5 MB up");
  });

  it("reads the old generation only when heapUsed grew by the bound (a proxy whose heap does not grow never loads node:v8)", () => {
    const { clock, state, grow } = setup();
    clock.advance(600_000);
    assert.equal(state.oldReads, 0);
    grow(0.4);
    clock.advance(600_000);
    assert.equal(state.oldReads, 0);
  });

  it("stop(): no timer left", () => {
    const { clock, growth } = setup();
    growth.stop();
    assert.equal(clock.pending(), 0);
  });
});

describe("Sidecar with SidecarOptions.majorGc", () => {
  it("with gc and majorGc: checks until close()", async () => {
    const clock = new FakeClock();
    const s = await Sidecar.start(emptyConfig(), { clock, gc: () => {}, majorGc: () => {} });
    try {
      assert.notEqual(s.growthGc, null);
    } finally {
      await s.close(0);
    }
    assert.equal(clock.pending(), 0);
  });

  it("without majorGc: no checks", async () => {
    const s = await Sidecar.start(emptyConfig(), { clock: new FakeClock(), gc: () => {} });
    assert.equal(s.growthGc, null);
    await s.close(0);
  });
});
