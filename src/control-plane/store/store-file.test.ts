import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { StoreFile, StoreFileError, type DurableState } from "./store-file.ts";

const STATE: DurableState = {
  resourceVersion: 7,
  applied: [{ body: { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "reviews" }, spec: { hosts: ["reviews"] } }, source: { file: "vs.yaml", line: 1, column: 1 } }],
  tombstones: ["networking.istio.io|DestinationRule|default|reviews"],
  meta: { "networking.istio.io|VirtualService|default|reviews": { resourceVersion: 7, generation: 2 } },
  changes: [{ id: "VirtualService default/reviews", by: "admin:alice", at: "2026-01-01T00:00:00.000Z", action: "configured" }],
};

describe("StoreFile", () => {
  const dirs: string[] = [];
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), "amime-store-"));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("is empty on first start, and gives back what was saved", async () => {
    const f = new StoreFile(dir());
    assert.equal(f.load(), null);
    await f.save(STATE);
    assert.deepEqual(new StoreFile(join(f.path, "..")).load(), STATE);
    assert.equal(existsSync(f.tempPath), false);
  });

  it("discards a temp file left by an interrupted write and keeps the last saved state", async () => {
    const f = new StoreFile(dir());
    await f.save(STATE);
    writeFileSync(f.tempPath, readFileSync(f.path, "utf8").slice(0, 40));
    const discarded: string[] = [];
    assert.deepEqual(f.load((t) => discarded.push(t)), STATE);
    assert.deepEqual(discarded, [f.tempPath]);
    assert.equal(existsSync(f.tempPath), false);
  });

  const damaged: [string, (text: string) => string, RegExp][] = [
    ["truncated", (t) => t.slice(0, t.length - 30), /not valid JSON.*truncated or damaged/],
    ["empty", () => "", /empty \(truncated\)/],
    ["changed after writing", (t) => t.replace('"admin:alice"', '"admin:mallory"'), /checksum mismatch/],
    ["not a store file", () => "[1,2]", /not a config store file/],
    ["of another format", (t) => t.replace("config-store/v1", "config-store/v9"), /unknown format/],
  ];
  for (const [what, damage, message] of damaged) {
    it(`refuses a store file that is ${what}, naming the file, and leaves it as it is`, async () => {
      const f = new StoreFile(dir());
      await f.save(STATE);
      const text = damage(readFileSync(f.path, "utf8"));
      writeFileSync(f.path, text);
      assert.throws(() => f.load(), (e: unknown) => e instanceof StoreFileError && e.code === "CP_STORE_CORRUPT" && e.message.includes(f.path) && message.test(e.message));
      assert.equal(readFileSync(f.path, "utf8"), text);
    });
  }
});
