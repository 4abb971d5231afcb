import { test } from "node:test";
import assert from "node:assert/strict";
import { newRequestId, RequestIdSource } from "./request-id.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("a small pool: ids stay unique and v4-shaped across refills from /dev/urandom", async () => {
  // 64 bytes = 4 ids per pool: every fifth id comes from the spare pool filled asynchronously.
  const source = new RequestIdSource(64);
  const seen = new Set<string>();
  for (let round = 0; round < 50; round++) {
    await source.spareFilled();
    for (let i = 0; i < 4; i++) {
      const id = source.newId();
      assert.match(id, UUID_V4);
      seen.add(id);
    }
  }
  assert.equal(seen.size, 200);
  // First in this file: nothing before it has outrun a refill, so node:crypto was never needed.
  const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  assert.ok(!loaded.includes("NativeModule crypto"), "the bytes came from /dev/urandom");
});

test("request ids are UUID v4 strings, unique across pool refills", () => {
  const seen = new Set<string>();
  // 10,000 ids span more than two refills of the 64 KiB pool (4,096 ids each).
  for (let i = 0; i < 10_000; i++) {
    const id = newRequestId();
    assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 10_000);
});

test("request ids use every hex digit in the random positions (the lookup table is complete)", () => {
  const digits = new Set<string>();
  for (let i = 0; i < 200; i++) for (const c of newRequestId().slice(0, 8)) digits.add(c);
  assert.equal(digits.size, 16);
});

test("ids that outrun the refill, and a source without /dev/urandom, fall back to node:crypto", () => {
  for (const source of [new RequestIdSource(64), new RequestIdSource(64, "/nonexistent/urandom")]) {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const id = source.newId();
      assert.match(id, UUID_V4);
      seen.add(id);
    }
    assert.equal(seen.size, 200);
  }
});
