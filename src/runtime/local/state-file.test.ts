import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findStateFile, NoStateFile, readState, removeState, statePath, writeState, type UpState } from "./state-file.ts";

const state = (n: number): UpState => ({
  controlPlane: "http://127.0.0.1:1", ingress: null, pid: process.pid, dir: "/x", gatewayPid: null,
  instances: Array.from({ length: n }, (_, i) => ({ name: `w-${i}`, namespace: "default", workload: "w", serviceAccount: "default", appPort: i, outboundPort: i, inboundPort: i, adminPort: i, pid: null, sidecarPid: null })),
});

test("concurrent writes leave one whole file (no interleaving)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "amime-state-"));
  try {
    await Promise.all(Array.from({ length: 30 }, (_, i) => writeState(dir, state(i % 7 + 20))));
    const parsed = JSON.parse(readFileSync(statePath(dir), "utf8")) as UpState;
    assert.ok(parsed.instances.length >= 20);
    assert.equal((await readState(dir)).pid, process.pid);
    await removeState(dir);
    await assert.rejects(readState(dir), NoStateFile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a state file whose amime up is gone is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "amime-state-"));
  try {
    await writeState(dir, { ...state(1), pid: 2 ** 22 + 12345 });
    await assert.rejects(readState(dir), /is not running/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the running mesh is found from a subdirectory, as git finds .git", async () => {
  const dir = mkdtempSync(join(tmpdir(), "amime-state-"));
  try {
    await writeState(dir, state(1));
    const sub = join(dir, "a", "b");
    mkdirSync(sub, { recursive: true });
    assert.equal((await readState(sub)).instances[0]?.name, "w-0");
    assert.equal((await findStateFile(sub))?.file, statePath(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
