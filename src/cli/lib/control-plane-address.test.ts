import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ControlPlaneAddressError, discoverControlPlane, NO_CONTROL_PLANE, normalizeUrl } from "./control-plane-address.ts";

test("normalizeUrl: adds https://, drops trailing slashes, refuses other schemes", () => {
  assert.equal(normalizeUrl("127.0.0.1:15010", "x"), "https://127.0.0.1:15010");
  assert.equal(normalizeUrl("https://cp.example:8443/", "x"), "https://cp.example:8443");
  assert.equal(normalizeUrl("http://h/base//", "x"), "http://h/base");
  assert.throws(() => normalizeUrl("ftp://h", "x"), /must be http/);
  assert.throws(() => normalizeUrl("http://[bad", "x"), /is not a URL/);
});

test("discoverControlPlane: flag, then env, then the nearest .amime/up.json, then a clear error", async () => {
  const dir = await mkdtemp(join(tmpdir(), "amime-discover-"));
  try {
    const deep = join(dir, "a", "b");
    await mkdir(deep, { recursive: true });
    await mkdir(join(dir, ".amime"));
    await writeFile(join(dir, ".amime", "up.json"), JSON.stringify({ controlPlane: "http://127.0.0.1:4000", pid: 1 }));
    assert.deepEqual(await discoverControlPlane({ flag: "127.0.0.1:1", env: { AMIME_CONTROL_PLANE: "http://e:2" }, cwd: deep }), { url: "https://127.0.0.1:1", from: "--control-plane" });
    assert.deepEqual(await discoverControlPlane({ env: { AMIME_CONTROL_PLANE: "http://e:2" }, cwd: deep }), { url: "http://e:2", from: "$AMIME_CONTROL_PLANE" });
    assert.deepEqual(await discoverControlPlane({ env: {}, cwd: deep }), { url: "http://127.0.0.1:4000", from: join(dir, ".amime", "up.json") });

    await writeFile(join(dir, ".amime", "up.json"), "{not json");
    await assert.rejects(discoverControlPlane({ env: {}, cwd: deep }), /up\.json is not valid JSON/);
    await writeFile(join(dir, ".amime", "up.json"), "{}");
    await assert.rejects(discoverControlPlane({ env: {}, cwd: deep }), /has no "controlPlane" address/);

    await rm(join(dir, ".amime"), { recursive: true });
    // Assumes no .amime/up.json in the temp dir's parents (tmpdir and /).
    await assert.rejects(discoverControlPlane({ env: {}, cwd: deep }), (e: unknown) => e instanceof ControlPlaneAddressError && e.code === "AMIME_NO_CONTROL_PLANE" && e.message === NO_CONTROL_PLANE);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
