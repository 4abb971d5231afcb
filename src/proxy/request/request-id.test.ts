import { test } from "node:test";
import assert from "node:assert/strict";
import { newRequestId } from "./request-id.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

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
