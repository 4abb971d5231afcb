// A real `amime proxy --xds` that is not ready says what it waits for, every 10 s (as Istio's agent
// logs each failed readiness check): here its stream is open but its instance is not registered, so
// the control plane sends it nothing; once registered, it gets ready.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { meshProxy, register, SERVICES_YAML, spawnProxy, stopProxy, waitFor } from "./mesh-harness.ts";

it("a sidecar whose instance is not registered yet logs that it waits for its config, then gets ready once registered", async () => {
  const dir = mkdtempSync(join(tmpdir(), "amime-waiting-"));
  writeFileSync(join(dir, "services.yaml"), SERVICES_YAML);
  const cp = await ControlPlane.start({ port: 0, configPaths: [join(dir, "services.yaml")], debounceMs: 5, watch: false });
  const p = await meshProxy("productpage", "v1");
  try {
    const ready = spawnProxy(cp, p);
    ready.catch(() => {});
    const line = await waitFor("the waiting line", () => p.stderr.split("\n").find((l) => l.includes("not ready after")), 25_000);
    assert.match(line, new RegExp(`^amime proxy: not ready after 1\\d s: waiting for its config \\(stream to ${cp.url.replace(/[.]/g, "\\.")} open, nothing sent to sidecar~productpage-v1-0\\.default yet: is its instance registered\\?\\)( and its workload certificate)?$`));
    await register(cp, p);
    assert.equal((await ready).ready, true);
  } finally {
    await stopProxy(p);
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
