// Istio's circuit-breaking task (istio.io tasks/traffic-management/circuit-breaking), reproduced:
// the task's DestinationRule (maxConnections 1, http1MaxPendingRequests 1, maxRequestsPerConnection
// 1) goes through real translation into the client sidecar's config; an httpbin-like upstream
// answers /get after ~20 ms; a fortio-like client sends 20 requests over 1, 2 and 3 keep-alive
// connections. With 1 connection everything passes; with 2 and 3 some requests trip the breaker
// (503, x-envoy-overloaded, flag UO) and admin /stats counts exactly those as
// upstream_rq_pending_overflow.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { clientConfig, clusterStat, instance, load, resources, startSidecar, type Proxy } from "./harness.ts";

const CLUSTER = "outbound|8000||httpbin.default.svc.cluster.local";

describe("circuit breaking (Istio task, httpbin + fortio)", () => {
  let httpbin: Server;
  let port = 0;
  before(async () => {
    httpbin = createServer((req, res) => {
      setTimeout(() => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ url: req.url, headers: req.headers }));
      }, 20);
    });
    await new Promise<void>((r) => httpbin.listen(0, "127.0.0.1", r));
    port = (httpbin.address() as AddressInfo).port;
  });
  after(async () => {
    httpbin.closeAllConnections();
    await new Promise<void>((r) => httpbin.close(() => r()));
  });

  const proxy = async (): Promise<Proxy> => {
    const rs = resources(["samples/httpbin/httpbin.yaml", "istio.io-tasks/traffic-management/circuit-breaking-httpbin-dr.yaml"]);
    const cfg = clientConfig(rs, [instance("httpbin-0", { app: "httpbin", version: "v1" }, 8080, port)]);
    const c = cfg.clusters.find((x) => x.name === CLUSTER);
    assert.ok(c, "translated cluster");
    // The task's limits, as translation resolved them.
    assert.equal(c.connectionPool.maxConnections, 1);
    assert.equal(c.connectionPool.maxPendingRequests, 1);
    assert.equal(c.connectionPool.maxRequestsPerConnection, 1);
    return startSidecar(cfg);
  };

  for (const concurrency of [1, 2, 3]) {
    it(`20 requests over ${concurrency} connection(s)`, async () => {
      const p = await proxy();
      try {
        const replies = await load(p.port, "httpbin:8000", "/get", 20, concurrency);
        const ok = replies.filter((r) => r.status === 200);
        const tripped = replies.filter((r) => r.status === 503);
        assert.equal(ok.length + tripped.length, 20, `only 200/503: ${replies.map((r) => r.status).join(",")}`);
        for (const r of tripped) {
          assert.equal(r.headers["x-envoy-overloaded"], "true");
          assert.equal(r.body, "upstream connect error or disconnect/reset before headers. reset reason: overflow");
        }
        if (concurrency === 1) assert.equal(tripped.length, 0, "one connection never trips the breaker");
        else assert.ok(tripped.length > 0 && ok.length > 0, `${concurrency} connections: some pass, some trip (got ${ok.length}/${tripped.length})`);
        // The proxy's view agrees: flags on its records and the admin counters.
        assert.equal(p.records.filter((r) => r.flags === "UO").length, tripped.length);
        assert.equal(p.records.filter((r) => r.status === 200).length, ok.length);
        assert.equal(await clusterStat(p.adminPort, CLUSTER, "upstream_rq_pending_overflow"), tripped.length);
        // One client connection never has two requests in flight, and the upstream connection a
        // request used (maxRequestsPerConnection 1) is closed before its response reaches the
        // client: the connection limit is never met. With more, it is.
        const cxOverflow = await clusterStat(p.adminPort, CLUSTER, "upstream_cx_overflow");
        if (concurrency === 1) assert.equal(cxOverflow, 0, "one connection never meets the connection limit");
        else assert.ok(cxOverflow >= 1, `${concurrency} connections: the connection limit was met (upstream_cx_overflow ${cxOverflow})`);
        assert.equal(await clusterStat(p.adminPort, CLUSTER, "upstream_rq_2xx"), ok.length);
        // maxRequestsPerConnection 1: one upstream connection per forwarded request.
        assert.equal(await clusterStat(p.adminPort, CLUSTER, "upstream_cx_total"), ok.length);
        console.log(`# concurrency ${concurrency}: ${ok.length} x 200, ${tripped.length} x 503 UO`);
      } finally {
        await p.close();
      }
    });
  }
});
