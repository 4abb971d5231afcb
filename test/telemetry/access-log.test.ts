// Access logs written to a file by a real sidecar, in Istio's default text format and in JSON,
// with the Telemetry-style status filter.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { clientConfig } from "./two-hop.ts";

describe("access log files", () => {
  let app: Upstream;
  let dir: string;

  before(async () => {
    app = await startUpstream("reviews", (req, res) => {
      res.statusCode = req.url?.startsWith("/teapot") === true ? 418 : 200;
      res.end("ok");
    });
    dir = mkdtempSync(join(tmpdir(), "amime-al-"));
  });

  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes Istio's default text line", async () => {
    const path = join(dir, "text.log");
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, accessLog: { format: "text", path } }), { random: seededRandom(3) });
    try {
      const port = s.ports().outbound as number;
      await send(port, { method: "POST", host: "reviews:9080", path: "/teapot?x=1", body: "abc", headers: { "x-request-id": "rid-1", "user-agent": "curl/8.0" } });
      await send(port, { host: "nowhere", path: "/" });
      await s.telemetry?.flush();
    } finally {
      await s.close(100);
    }
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    assert.equal(lines.length, 2);
    const re =
      /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "POST \/teapot\?x=1 HTTP\/1\.1" 418 - via_upstream - "-" 3 (\d+) (\d+) (\d+) "-" "curl\/8\.0" "rid-1" "reviews:9080" "127\.0\.0\.1:(\d+)" outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local - - 127\.0\.0\.1 - default$/;
    const m = re.exec(lines[0] as string);
    assert.ok(m, lines[0]);
    assert.equal(Number(m[5]), app.port);
    assert.match(lines[1] as string, /"GET \/ HTTP\/1\.1" 404 NR route_not_found - "-" 0 \d+ \d+ - "-" "-" "-" "nowhere" "-" - - - 127\.0\.0\.1 - -$/);
  });

  it("writes JSON lines and applies the response.code filter", async () => {
    const path = join(dir, "json.log");
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, accessLog: { format: "json", path, filter: "response.code >= 400" } }), { random: seededRandom(4) });
    try {
      const port = s.ports().outbound as number;
      await send(port, { host: "reviews:9080", path: "/fine" });
      await send(port, { host: "reviews:9080", path: "/teapot", headers: { "x-request-id": "rid-2", "user-agent": "ua" } });
      await s.telemetry?.flush();
    } finally {
      await s.close(100);
    }
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    assert.equal(lines.length, 1);
    const o = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.equal(o.method, "GET");
    assert.equal(o.path, "/teapot");
    assert.equal(o.protocol, "HTTP/1.1");
    assert.equal(o.response_code, 418);
    assert.equal(o.response_flags, "-");
    assert.equal(o.bytes_received, 0);
    assert.equal(typeof o.bytes_sent, "number");
    assert.equal(typeof o.duration, "number");
    assert.equal(typeof o.upstream_service_time, "number");
    assert.equal(o.x_forwarded_for, null);
    assert.equal(o.user_agent, "ua");
    assert.equal(o.request_id, "rid-2");
    assert.equal(o.authority, "reviews:9080");
    assert.equal(o.upstream_host, `127.0.0.1:${app.port}`);
    assert.equal(o.upstream_cluster, "outbound|9080|v2|reviews.default.svc.cluster.local");
    assert.equal(o.trace_id, null);
    assert.match(String(o.start_time), /^\d{4}-\d\d-\d\dT/);
  });

  it("applies a CEL filter on headers, method, path and workloads (&&, ||, !, comparisons, defaults)", async () => {
    const path = join(dir, "cel.log");
    const filter = "(response.code >= 400 && !request.url_path.startsWith('/teapot/quiet')) || (request.method == 'POST' && (request.headers['x-debug'] || 'off') == 'on') || destination.workload.name == 'nobody'";
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, accessLog: { format: "json", path, filter } }), { random: seededRandom(5) });
    try {
      const port = s.ports().outbound as number;
      await send(port, { host: "reviews:9080", path: "/fine", headers: { "x-request-id": "skip-200" } });
      await send(port, { host: "reviews:9080", path: "/teapot/loud", headers: { "x-request-id": "log-418" } });
      await send(port, { host: "reviews:9080", path: "/teapot/quiet", headers: { "x-request-id": "skip-quiet-418" } });
      await send(port, { method: "POST", host: "reviews:9080", path: "/fine", body: "x", headers: { "x-request-id": "log-debug", "x-debug": "on" } });
      await send(port, { method: "POST", host: "reviews:9080", path: "/fine", body: "x", headers: { "x-request-id": "skip-no-debug" } });
      await s.telemetry?.flush();
    } finally {
      await s.close(100);
    }
    const ids = readFileSync(path, "utf8").trimEnd().split("\n").map((l) => (JSON.parse(l) as { request_id: string }).request_id);
    assert.deepEqual(ids, ["log-418", "log-debug"]);
  });

  it("writes JSON lines with a provider's custom labels (Envoy command operators)", async () => {
    const path = join(dir, "labels.log");
    const jsonLabels = { status: "%RESPONSE_CODE%", route: "%REQ(:METHOD)% %REQ(:PATH)%", ua: "%REQ(USER-AGENT)%", upstream: "%UPSTREAM_HOST%", mesh: "amime" };
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, accessLog: { format: "json", path, jsonLabels } }), { random: seededRandom(5) });
    try {
      await send(s.ports().outbound as number, { host: "reviews:9080", path: "/teapot", headers: { "user-agent": "ua-3" } });
      await s.telemetry?.flush();
    } finally {
      await s.close(100);
    }
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0] as string), { status: 418, route: "GET /teapot", ua: "ua-3", upstream: `127.0.0.1:${app.port}`, mesh: "amime" });
  });
});
