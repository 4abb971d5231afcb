// Access logs to Fluentd over the Forward protocol (Amime's `fluentd` provider), from Telemetry
// and MeshConfig YAML through translation to a real sidecar, received by a forward input that
// decodes msgpack as Fluentd's in_forward does (src/testing/fluentd-forward-input.ts). The input
// killed mid-test: the proxy's traffic is unaffected, the records lost are counted.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ExtData } from "@msgpack/msgpack";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { telemetryConfig } from "../../src/control-plane/translate/telemetry.ts";
import { sidecarProxy, snapshotFrom } from "../../src/control-plane/translate/testing.ts";
import { forwardInput } from "../../src/testing/fluentd-forward-input.ts";
import { send, type Upstream } from "../proxy/sidecar-harness.ts";
import { clientConfig, scrape, startStatusApp } from "./two-hop.ts";

/** The TelemetryConfig a sidecar gets from a mesh-wide Telemetry naming a fluentd provider. */
function translated(port: number, logFormat?: Record<string, unknown>): ReturnType<typeof telemetryConfig> {
  const telemetry = JSON.stringify({ apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name: "mesh", namespace: "istio-system" }, spec: { accessLogging: [{ providers: [{ name: "fluentd" }] }] } });
  const mesh = { config: { extensionProviders: [{ name: "fluentd", fluentd: { service: "127.0.0.1", port, tag: "mesh.access", ...(logFormat ? { logFormat } : {}) } }] } };
  return { ...telemetryConfig(snapshotFrom(telemetry, [], { mesh }), sidecarProxy({ app: "productpage" })), metricsPort: 0 };
}

describe("access logs to Fluentd (forward protocol)", () => {
  let app: Upstream;
  before(async () => {
    app = await startStatusApp();
  });
  after(() => app.close());

  it("each request is one event: EventTime, the provider's labels as the record, under the tag; acked", async () => {
    const rx = await forwardInput();
    const s = await Sidecar.start(clientConfig(app.port, translated(rx.port, { labels: { status: "%RESPONSE_CODE%", path: "%REQ(:PATH)%", ua: "%REQ(USER-AGENT)%" } })), { random: seededRandom(51) });
    try {
      const before = Date.now();
      await send(s.ports().outbound as number, { host: "reviews:9080", path: "/teapot", headers: { "user-agent": "ua-fluent" } });
      await s.telemetry?.flush();
      await rx.until(1);
      const [tag, entries, option] = rx.messages[0] ?? [];
      assert.equal(tag, "mesh.access");
      assert.equal(option?.size, 1);
      assert.equal(typeof option?.chunk, "string");
      assert.deepEqual(entries?.[0]?.[1], { status: 418, path: "/teapot", ua: "ua-fluent" });
      const t = Buffer.from((entries?.[0]?.[0] as ExtData).data as Uint8Array);
      assert.equal((entries?.[0]?.[0] as ExtData).type, 0);
      const ms = t.readUInt32BE(0) * 1000 + t.readUInt32BE(4) / 1e6;
      assert.ok(ms >= before - 1 && ms <= Date.now(), `event time ${ms}`);
      const text = await scrape(s);
      assert.match(text, /^amime_telemetry_export_sent_total\{exporter="fluentd"\} 1$/m);
      assert.match(text, /^amime_access_log_written_total 1$/m);
    } finally {
      await s.close(100);
      await rx.close();
    }
  });

  it("without labels the record is the default JSON fields; with `text`, {log: line}", async () => {
    const rx = await forwardInput();
    const s = await Sidecar.start(clientConfig(app.port, translated(rx.port)), { random: seededRandom(52) });
    const rx2 = await forwardInput();
    const s2 = await Sidecar.start(clientConfig(app.port, translated(rx2.port, { text: "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE%\n" })), { random: seededRandom(53) });
    try {
      await send(s.ports().outbound as number, { host: "reviews:9080", path: "/json" });
      await send(s2.ports().outbound as number, { host: "reviews:9080", path: "/text" });
      await Promise.all([s.telemetry?.flush(), s2.telemetry?.flush()]);
      await Promise.all([rx.until(1), rx2.until(1)]);
      const rec = rx.messages[0]?.[1][0]?.[1] as Record<string, unknown>;
      assert.equal(rec.path, "/json");
      assert.equal(rec.response_code, 200);
      assert.equal(rec.upstream_cluster, "outbound|9080|v2|reviews.default.svc.cluster.local");
      assert.deepEqual(rx2.messages[0]?.[1][0]?.[1], { log: "GET /text 200" });
    } finally {
      await Promise.all([s.close(100), s2.close(100)]);
      await Promise.all([rx.close(), rx2.close()]);
    }
  });

  it("Fluentd killed mid-test: traffic unaffected, the records of the failed batch retried, then dropped and counted", async () => {
    const rx = await forwardInput();
    const s = await Sidecar.start(clientConfig(app.port, translated(rx.port)), { random: seededRandom(54) });
    try {
      const out = s.ports().outbound as number;
      await send(out, { host: "reviews:9080", path: "/before" });
      await s.telemetry?.flush();
      await rx.until(1);
      await rx.close();
      for (let i = 0; i < 4; i++) assert.equal((await send(out, { host: "reviews:9080", path: `/down-${i}` })).status, 200);
      await s.telemetry?.flush(); // tried, retried after 0.5 s, 1 s, 2 s, then dropped
      const text = await scrape(s);
      assert.match(text, /^amime_telemetry_export_sent_total\{exporter="fluentd"\} 1$/m);
      assert.match(text, /^amime_telemetry_export_dropped_total\{exporter="fluentd"\} 4$/m);
      assert.match(text, /^amime_telemetry_export_retried_total\{exporter="fluentd"\} 3$/m);
      assert.match(text, /^amime_access_log_dropped_total 4$/m);
    } finally {
      await s.close(100);
    }
  });
});
