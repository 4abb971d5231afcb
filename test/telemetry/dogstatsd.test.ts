// Istio's standard metrics to a DogStatsD port: a real sidecar with a `dogstatsd` exporter sends
// Datadog lines over UDP to a socket bound on port 0; when that port is closed (the agent gone),
// the kernel's ECONNREFUSED makes the exporter retry, then drop and count, and traffic is unaffected.
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { clientConfig, scrape } from "./two-hop.ts";

describe("Istio metrics to DogStatsD", () => {
  let app: Upstream;
  before(async () => {
    app = await startUpstream("reviews", (_req, res) => res.end("ok"));
  });
  after(() => app.close());

  it("sends Datadog lines with Istio's labels as tags; with the agent gone, counts what it drops", async () => {
    const agent = createSocket("udp4");
    const lines: string[] = [];
    const waiters: { re: RegExp; wake: () => void }[] = [];
    agent.on("message", (m) => {
      lines.push(...m.toString().split("\n"));
      for (const w of waiters.filter((x) => lines.some((l) => x.re.test(l)))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.wake();
      }
    });
    /** Resolves once a line matching `re` has arrived. */
    const line = async (re: RegExp): Promise<string> => {
      if (!lines.some((l) => re.test(l))) await new Promise<void>((wake) => waiters.push({ re, wake }));
      return lines.find((l) => re.test(l)) as string;
    };
    await new Promise<void>((r) => agent.bind(0, "127.0.0.1", r));
    const port = (agent.address() as AddressInfo).port;
    let closed = false;
    const metricsExport = [{ kind: "dogstatsd" as const, target: `127.0.0.1:${port}`, intervalMs: 60_000 }];
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, metricsExport }), { random: seededRandom(41) });
    try {
      const out = s.ports().outbound as number;
      await send(out, { host: "reviews:9080", path: "/one" });
      await send(out, { host: "reviews:9080", path: "/two" });
      await s.telemetry?.flush();
      const count = await line(/^envoy\.istio_requests_total:/);
      assert.match(count, /^envoy\.istio_requests_total:2\|c\|#reporter:source,source_workload:productpage-v1,.*,destination_service:reviews\.default\.svc\.cluster\.local,.*,response_code:200,/);
      const duration = await line(/^envoy\.istio_request_duration_milliseconds:/);
      assert.match(duration, /^envoy\.istio_request_duration_milliseconds:[0-9.]+\|d(\|@[0-9.]+)?\|#reporter:source,/);

      await new Promise<void>((r) => agent.close(() => r()));
      closed = true;
      for (let i = 0; i < 3; i++) assert.equal((await send(out, { host: "reviews:9080", path: `/down-${i}` })).status, 200);
      await s.telemetry?.flush(); // the first datagram draws an ICMP "unreachable": the next send fails, retried, then dropped
      await s.telemetry?.flush();
      const text = await scrape(s);
      const n = (name: string): number => Number(new RegExp(`^${name}\\{exporter="dogstatsd"\\} (\\d+)$`, "m").exec(text)?.[1]);
      assert.ok(n("amime_telemetry_export_sent_total") >= 5, text);
      assert.ok(n("amime_telemetry_export_dropped_total") >= 1, text);
      assert.ok(n("amime_telemetry_export_retried_total") >= 1, text);
    } finally {
      await s.close(100);
      if (!closed) agent.close();
    }
  });
});
