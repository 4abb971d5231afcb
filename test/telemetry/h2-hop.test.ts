// A mesh hop over HTTP/2 between the sidecars (client cluster protocol http2, as for grpc/http2
// ports or h2UpgradePolicy UPGRADE) with an HTTP/1.1 app on both ends: the peer metadata goes
// both ways in HTTP/2 headers, the apps never see it, and both sides label the hop.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../../src/core/random.ts";
import { parsePrometheusText, type Sample } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { clientConfig, scrape, serverConfig } from "./two-hop.ts";

function find(text: string, name: string, labels: Record<string, string>): Sample[] {
  const out: Sample[] = [];
  for (const f of parsePrometheusText(text).values()) for (const s of f.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
  return out;
}

describe("Istio metrics over an HTTP/2 hop", () => {
  let app: Upstream;
  let server: Sidecar;
  let client: Sidecar;

  before(async () => {
    app = await startUpstream("reviews", (req, res) => res.end(`saw-peer=${req.headers["x-amime-peer"] ?? "none"}`));
    server = await Sidecar.start(serverConfig(app.port, { metricsPort: 0 }), { random: seededRandom(1) });
    const cfg = clientConfig(server.ports()["inbound|9080"] as number, { metricsPort: 0 });
    (cfg.clusters as Record<string, unknown>[])[0]!.protocol = "http2";
    client = await Sidecar.start(cfg, { random: seededRandom(2) });
  });

  after(async () => {
    await client.close(100);
    await server.close(100);
    await app.close();
  });

  it("HTTP/1.1 app → h2 between sidecars → HTTP/1.1 app: peer identity read at both ends, hidden from the apps", async () => {
    const r = await send(client.ports().outbound as number, { host: "reviews:9080", path: "/r" });
    assert.equal(r.status, 200);
    assert.equal(r.body, "saw-peer=none");
    assert.equal(r.headers["x-amime-peer"], undefined);
    // The upstream hop really was HTTP/2: the server sidecar counted an HTTP/2 stream's session.
    assert.equal(client.runtime.clusters.get("outbound|9080|v2|reviews.default.svc.cluster.local")!.stats.upstream_cx_total, 1);
    const src = find(await scrape(client), "istio_requests_total", { reporter: "source", response_code: "200" });
    assert.equal(src[0]?.labels.destination_workload, "reviews-v2");
    assert.equal(src[0]?.labels.destination_canonical_revision, "v2");
    const dst = find(await scrape(server), "istio_requests_total", { reporter: "destination", response_code: "200" });
    assert.equal(dst[0]?.labels.source_workload, "productpage-v1");
  });
});
