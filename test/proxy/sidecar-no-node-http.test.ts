// A running sidecar never loads node:http (issue 15: ≈ 1.7–2 MB of RSS): started as a runtime starts
// it (the bundle, the sidecar's flags), from a file with a Bookinfo hop's config, Prometheus and
// Zipkin tracing on, its admin, status and Prometheus listeners are scraped and a span export is
// accepted by a real collector; then Node's own list of loaded built-ins (process.moduleLoadList,
// written by a preload at exit) holds no `node:http` module nor any of its `_http_*` parts. Nor
// `node:crypto` (17 modules, ≈ 1.4 MB): the x-request-id it generates for each request comes from
// /dev/urandom, and a plaintext config uses nothing else of it. Nor what the sidecar's own code
// used to make Node load beside them (issue 15, ≈ 0.7 MB): `perf_hooks` and the eight modules behind
// `globalThis.performance` (its clock is process.hrtime, core/clock.ts), `internal/blocklist` and
// `internal/socketaddress` (the getters of node:net's ESM namespace), `internal/file` (node:buffer's),
// Node's `import.meta` initializer (a .proto directory found at load). Nor `dns`, `cluster` and what
// `cluster` loads (`child_process`, `dgram`): Node's `listen({ host, port })` loads them on the way
// to binding an IP literal (≈ 0.2–0.75 MB); the sidecar's listeners bind through core/listen.ts.
// Nor `os` (its module and binding, for the host's name: read from /proc by core/host-name.ts).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sidecarLaunch } from "../../src/runtime/js-build/sidecar-launch.ts";
import { firstLine, send, startUpstream, type Upstream } from "./sidecar-harness.ts";
import { clientConfig } from "../telemetry/two-hop.ts";
import { startCollector, type Collector } from "../telemetry/collector.ts";
import { unusedPort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

const root = join(import.meta.dirname, "..", "..");

describe("a sidecar from a file, with Prometheus and tracing on, without node:http or node:crypto", () => {
  let app: Upstream;
  let collector: Collector;
  let dir: string;
  before(async () => {
    app = await startUpstream("reviews");
    collector = await startCollector();
    dir = mkdtempSync(join(tmpdir(), "amime-no-http-"));
  });
  after(async () => {
    await app.close();
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves admin, status and /stats/prometheus and exports its spans; it generates x-request-ids; process.moduleLoadList has no http, crypto, perf_hooks, blocklist, file, import.meta, dns, cluster or os module", async () => {
    const metricsPort = await unusedPort();
    const file = join(dir, "productpage.json");
    writeFileSync(file, JSON.stringify(clientConfig(app.port, { metricsPort, tracing: { endpoint: `${collector.url}/api/v2/spans`, format: "zipkin", samplingPercentage: 100 } })));
    const listFile = join(dir, "modules.json");
    const preload = join(dir, "module-list.mjs");
    writeFileSync(preload, `process.on("exit", () => process.getBuiltinModule("node:fs").writeFileSync(${JSON.stringify(listFile)}, JSON.stringify(process.moduleLoadList)));\n`);
    const launch = await sidecarLaunch(root);
    const child = spawn(launch.command, ["--import", preload, ...launch.args, "proxy", "--config", file, "--admin-port", "0", "--status-port", "0", "--status-address", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const ready = JSON.parse(await firstLine(child)) as { listeners: Record<string, number>; admin: number; status: number };
      for (let i = 0; i < 3; i++) {
        const r = await send(ready.listeners.outbound as number, { path: `/reviews/${i}`, headers: { host: "reviews:9080" } });
        assert.equal(r.status, 200);
      }
      const ids = app.requests.map((q) => q.headers["x-request-id"]);
      for (const id of ids) assert.match(String(id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(new Set(ids).size, 3);

      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/stats/prometheus`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^istio_requests_total\{.*response_code="200".*\} 3$/m);
      assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/stats/prometheus`, { method: "POST" })).status, 405);
      const admin = `http://127.0.0.1:${ready.admin}`;
      assert.equal(await (await fetch(`${admin}/ready`)).text(), "LIVE\n");
      assert.match(await (await fetch(`${admin}/stats`)).text(), /^http\.downstream_rq_2xx: 3$/m);
      assert.equal(((await (await fetch(`${admin}/config_dump`)).json()) as { version: string }).version, "3");
      assert.equal((await fetch(`http://127.0.0.1:${ready.status}/healthz/ready`)).status, 200);
      await waitFor(() => collector.service.spans.accepted >= 3, { what: "the sidecar's span at the collector" });
      assert.match(await (await fetch(`${admin}/stats/prometheus`)).text(), /^amime_tracing_spans_exported_total 3$/m);

      await new Promise<void>((resolve) => {
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      });
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    const loaded = JSON.parse(readFileSync(listFile, "utf8")) as string[];
    assert.ok(loaded.includes("NativeModule net"), "the list is the sidecar's");
    assert.deepEqual(
      loaded.filter((m) => /^NativeModule (http|https|_http_\w+|internal\/http)$/.test(m)),
      [],
    );
    assert.deepEqual(
      loaded.filter((m) => /^NativeModule (crypto|internal\/crypto\/\w+)$/.test(m)),
      [],
    );
    assert.deepEqual(
      loaded.filter((m) => /^NativeModule (perf_hooks|internal\/perf\/(performance|usertiming|nodetiming|resource_timing|event_loop_utilization|event_loop_delay|timerify)|internal\/histogram|internal\/blocklist|internal\/socketaddress|internal\/file|internal\/modules\/esm\/initialize_import_meta)$/.test(m)),
      [],
    );
    assert.deepEqual(
      loaded.filter((m) => /^NativeModule (dns|internal\/dns\/callback_resolver|cluster|internal\/cluster\/\w+|child_process|dgram)$/.test(m)),
      [],
    );
    // Nor `os`: the host's name (%HOSTNAME%) is read from /proc (core/host-name.ts).
    assert.deepEqual(
      loaded.filter((m) => /^(NativeModule|Internal Binding) os$/.test(m)),
      [],
    );
  });
});
