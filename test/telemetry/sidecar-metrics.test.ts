// Istio standard metrics end to end: a client and a server sidecar in front of a real upstream;
// both sides' /stats/prometheus must pass the strict parser (and promtool), and count the hop with
// Istio's labels — reporter=source at the client, reporter=destination at the server — each side
// knowing the other through the peer metadata header, which the apps never see.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { parsePrometheusText, type Sample } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { scrape, startTwoHop, type TwoHop } from "./two-hop.ts";

function find(text: string, name: string, labels: Record<string, string>): Sample[] {
  const fams = parsePrometheusText(text);
  const out: Sample[] = [];
  for (const f of fams.values()) for (const s of f.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
  return out;
}

describe("sidecar Istio metrics", () => {
  let app: Upstream;
  let mesh: TwoHop;

  before(async () => {
    app = await startUpstream("reviews", (req, res) => {
      res.statusCode = req.url === "/boom" ? 503 : 200;
      res.end(`saw-peer=${req.headers["x-amime-peer"] ?? "none"}`);
    });
    mesh = await startTwoHop(app.port, { metricsPort: 0 });
  });

  after(async () => {
    await mesh.close();
    await app.close();
  });

  it("labels the hop at both ends and hides the peer header from the apps", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await send(mesh.clientPort, { method: "POST", host: "reviews:9080", path: "/reviews/1", body: "hello" });
      assert.equal(r.status, 200);
      assert.equal(r.body, "saw-peer=none");
      assert.equal(r.headers["x-amime-peer"], undefined);
    }
    await send(mesh.clientPort, { host: "reviews:9080", path: "/boom" });

    const client = await scrape(mesh.client);
    const src = find(client, "istio_requests_total", { reporter: "source", response_code: "200" });
    assert.equal(src.length, 1);
    assert.equal(src[0]?.value, 3);
    assert.deepEqual(
      { ...src[0]?.labels },
      {
        reporter: "source",
        source_workload: "productpage-v1",
        source_canonical_service: "productpage",
        source_canonical_revision: "v1",
        source_workload_namespace: "default",
        source_principal: "unknown",
        source_app: "productpage",
        source_version: "v1",
        source_cluster: "unknown",
        destination_workload: "reviews-v2",
        destination_workload_namespace: "default",
        destination_principal: "unknown",
        destination_app: "reviews",
        destination_version: "v2",
        destination_service: "reviews.default.svc.cluster.local",
        destination_service_name: "reviews",
        destination_service_namespace: "default",
        destination_canonical_service: "reviews",
        destination_canonical_revision: "v2",
        destination_cluster: "unknown",
        request_protocol: "http",
        response_code: "200",
        grpc_response_status: "",
        response_flags: "-",
        connection_security_policy: "unknown",
      },
    );
    assert.equal(find(client, "istio_requests_total", { reporter: "source", response_code: "503" })[0]?.value, 1);

    const server = await scrape(mesh.server);
    const dst = find(server, "istio_requests_total", { reporter: "destination", response_code: "200" });
    assert.equal(dst.length, 1);
    assert.equal(dst[0]?.value, 3);
    assert.equal(dst[0]?.labels.source_workload, "productpage-v1");
    assert.equal(dst[0]?.labels.source_app, "productpage");
    assert.equal(dst[0]?.labels.destination_workload, "reviews-v2");
    assert.equal(dst[0]?.labels.destination_version, "v2");
    assert.equal(dst[0]?.labels.connection_security_policy, "none");

    // Histograms: 3 observations in the 200 series; request bytes = the 5-byte body.
    assert.equal(find(client, "istio_request_duration_milliseconds_count", { response_code: "200" })[0]?.value, 3);
    assert.equal(find(client, "istio_request_bytes_sum", { response_code: "200" })[0]?.value, 15);
    assert.equal(find(client, "istio_request_bytes_bucket", { response_code: "200", le: "5" })[0]?.value, 3);
    assert.equal(find(client, "istio_request_bytes_bucket", { response_code: "200", le: "1" })[0]?.value, 0);
    assert.equal(find(client, "istio_request_duration_milliseconds_bucket", { response_code: "200", le: "3.6e+06" })[0]?.value, 3);
  });

  it("reports no route as NR with unknown destination", async () => {
    const r = await send(mesh.clientPort, { host: "nowhere.example", path: "/" });
    assert.equal(r.status, 404);
    const s = find(await scrape(mesh.client), "istio_requests_total", { response_flags: "NR" });
    assert.equal(s.length, 1);
    assert.equal(s[0]?.labels.destination_service, "unknown");
    assert.equal(s[0]?.labels.destination_workload, "unknown");
  });

  it("exposes the proxy's own counters", async () => {
    const text = await scrape(mesh.client);
    const rq = find(text, "envoy_cluster_upstream_rq_total", { cluster_name: "outbound|9080|v2|reviews.default.svc.cluster.local" });
    assert.equal(rq[0]?.value, 4);
    assert.equal(find(text, "amime_proxy_config_version", {})[0]?.value, 3);
    assert.equal(find(text, "envoy_server_live", {})[0]?.value, 1);
  });

  it("the metrics listener is read-only: GET and HEAD answer, POST and PUT get 405, other paths 404", async () => {
    const base = `http://127.0.0.1:${mesh.client.telemetry?.metricsPort}`;
    assert.equal((await fetch(`${base}/stats/prometheus`, { method: "HEAD" })).status, 200);
    for (const method of ["POST", "PUT"]) {
      const r = await fetch(`${base}/stats/prometheus`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get("allow"), "GET, HEAD");
    }
    for (const path of ["/drain", "/config_dump", "/ready"]) assert.equal((await fetch(`${base}${path}`, { method: "POST" })).status, 404, path);
  });

  it("passes promtool check metrics", { skip: !existsSync("/usr/bin/promtool") }, async () => {
    const text = await scrape(mesh.client);
    const r = spawnSync("/usr/bin/promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 20_000 });
    const problems = `${r.stdout}${r.stderr}`
      .split("\n")
      .filter((l) => l.trim() !== "")
      // Envoy's stat names (envoy_cluster_upstream_rq_retry, the membership_total gauge…) and Istio's
      // millisecond histogram predate Prometheus naming conventions; they are kept as they are.
      .filter((l) => !/^envoy_\S+ (non-)?counter metrics should (not )?have "_total" suffix$/.test(l.trim()))
      .filter((l) => l.trim() !== 'istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"');
    assert.deepEqual(problems, []);
  });
});
