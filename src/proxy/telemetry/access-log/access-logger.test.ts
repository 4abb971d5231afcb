import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AccessLogger } from "./access-logger.ts";

describe("AccessLogger", () => {
  it("buffers off the request path, writes in order, drops and counts past the bound", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amime-logger-"));
    try {
      const queued: (() => void)[] = [];
      const path = join(dir, "a.log");
      const l = new AccessLogger({ path, maxBufferBytes: 20, schedule: (fn) => void queued.push(fn) });
      assert.equal(l.log("line-1\n"), true);
      assert.equal(l.log("line-2\n"), true);
      assert.equal(l.log("line-3-too-long\n"), false);
      assert.equal(l.dropped, 1);
      assert.equal(queued.length, 1, "one flush scheduled for many lines");
      assert.equal(l.buffered, 2);
      (queued.shift() as () => void)();
      assert.equal(l.buffered, 0);
      assert.equal(l.log("line-4\n"), true);
      await l.close();
      assert.equal(readFileSync(path, "utf8"), "line-1\nline-2\nline-4\n");
      assert.equal(l.written, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
