// Telemetry `metrics.overrides` end to end: two sidecars whose config carries tag overrides (CEL
// expressions on request attributes, REMOVE) and per-metric disabling per side; the effect is read
// from real /stats/prometheus scrapes through the strict parser.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parsePrometheusText, type Sample } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import type { TelemetryConfig } from "../../src/model/proxy-config.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { scrape, startTwoHop, type TwoHop } from "./two-hop.ts";

function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const f of parsePrometheusText(text).values()) for (const s of f.samples) if (s.name === name) out.push(s);
  return out;
}

const telemetry: TelemetryConfig = {
  metricsPort: 0,
  metrics: {
    overrides: [
      { metric: "REQUEST_COUNT", mode: "CLIENT", tags: { user: { value: "request.headers['x-user'] || 'anonymous'" }, request_host: { value: "request.host" }, response_flags: { remove: true } } },
      { metric: "REQUEST_DURATION", mode: "CLIENT", disabled: true },
      { metric: "REQUEST_SIZE", tags: { response_code: { remove: true } } },
      { metric: "REQUEST_COUNT", mode: "SERVER", tags: { method: { value: "request.method" }, source_workload: { value: "source.workload.name + 'x'" } } },
    ],
  },
};

describe("Telemetry metric overrides", () => {
  let app: Upstream;
  let mesh: TwoHop;

  before(async () => {
    app = await startUpstream("reviews", (req, res) => {
      res.statusCode = req.url === "/boom" ? 503 : 200;
      res.end("ok");
    });
    mesh = await startTwoHop(app.port, { ...telemetry, metrics: { overrides: telemetry.metrics?.overrides?.slice(0, 3) ?? [] } });
  });

  after(async () => {
    await mesh?.close();
    await app?.close();
  });

  it("upserts labels from request attributes, removes labels, and disables one metric on one side", async () => {
    await send(mesh.clientPort, { host: "reviews:9080", path: "/a", headers: { "x-user": "jason" } });
    await send(mesh.clientPort, { host: "reviews:9080", path: "/b", headers: { "x-user": "jason" } });
    await send(mesh.clientPort, { host: "reviews:9080", path: "/c" });
    await send(mesh.clientPort, { host: "reviews:9080", path: "/boom" });
    const client = await scrape(mesh.client);
    const counts = samples(client, "istio_requests_total");
    const by = (user: string, code: string): Sample | undefined => counts.find((s) => s.labels.user === user && s.labels.response_code === code);
    assert.equal(by("jason", "200")?.value, 2);
    assert.equal(by("anonymous", "200")?.value, 1);
    assert.equal(by("anonymous", "503")?.value, 1);
    assert.equal(by("jason", "200")?.labels.request_host, "reviews:9080");
    assert.equal(by("jason", "200")?.labels.destination_workload, "reviews-v2");
    assert.ok(counts.every((s) => !("response_flags" in s.labels)), "response_flags removed from istio_requests_total");
    // REQUEST_DURATION is off on the client side only.
    assert.equal(samples(client, "istio_request_duration_milliseconds_count").length, 0);
    // REQUEST_SIZE without response_code: the 200 and 503 series are one, summed; the user tag is REQUEST_COUNT's only.
    const sizes = samples(client, "istio_request_bytes_count");
    assert.equal(sizes.length, 1);
    assert.equal(sizes[0]?.value, 4);
    assert.equal("response_code" in (sizes[0]?.labels ?? {}), false);
    assert.equal("user" in (sizes[0]?.labels ?? {}), false);
    // Response sizes keep Istio's labels.
    assert.equal(samples(client, "istio_response_bytes_count").find((s) => s.labels.response_code === "503")?.value, 1);

    const server = await scrape(mesh.server);
    const dst = samples(server, "istio_requests_total");
    assert.equal(dst.find((s) => s.labels.response_code === "200")?.value, 3);
    assert.ok(dst.every((s) => !("user" in s.labels) && s.labels.response_flags === "-"), "client-side overrides do not touch the server side");
    assert.equal(samples(server, "istio_request_duration_milliseconds_count").find((s) => s.labels.response_code === "200")?.value, 3);
  });

  it("a pushed config with overrides on the server side applies them from then on", async () => {
    const next = { ...mesh.server.config, version: "8", telemetry };
    assert.deepEqual(await mesh.server.applyConfig(next), { ok: true, version: "8" });
    await send(mesh.clientPort, { method: "POST", host: "reviews:9080", path: "/d", body: "x" });
    const dst = samples(await scrape(mesh.server), "istio_requests_total").filter((s) => s.labels.method !== undefined);
    assert.equal(dst.length, 1);
    assert.equal(dst[0]?.labels.method, "POST");
    assert.equal(dst[0]?.labels.source_workload, "productpage-v1x");
  });

  it("refuses a pushed config whose expression the sidecar cannot evaluate, naming the field", async () => {
    const bad = { ...mesh.server.config, version: "9", telemetry: { metrics: { overrides: [{ metric: "REQUEST_COUNT", tags: { x: { value: "request.hots" } } }] } } };
    const r = await mesh.server.applyConfig(bad);
    assert.equal(r.ok, false);
    assert.match(String((r as { error: string }).error), /telemetry\.metrics\.overrides\[0\]\.tags\.x\.value: unknown attribute request\.hots/);
  });
});
