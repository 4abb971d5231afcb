// Sidecar resilience end to end: connect failures (UF), no endpoints (UH), route and per-try
// timeouts (UT), retries with attempt counting and host avoidance (URX), overflow (UO), fault
// injection (DI/FI, bookinfo's `end-user: jason`), mirroring.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { formatResponseFlags } from "../../src/proxy/request/response-flags.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { Gate, waitFor, within } from "../support/wait.ts";
import { closedPort, forward, proxyConfig, route, send, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const retryPolicy = (attempts: number, extra: Record<string, unknown> = {}) => ({
  attempts,
  perTryTimeoutMs: 0,
  retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
  retriableStatusCodes: [503],
  backoffBaseMs: 1,
  backoffMaxMs: 2,
  retryIgnorePreviousHosts: true,
  ...extra,
});

describe("sidecar resilience", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
  });
  const up = async (name: string, handler?: Parameters<typeof startUpstream>[1]): Promise<Upstream> => {
    const u = await startUpstream(name, handler);
    cleanups.push(() => u.close());
    return u;
  };
  const proxyWith = async (clusters: Parameters<typeof proxyConfig>[0]["clusters"], routes: Record<string, unknown>[], clock?: FakeClock): Promise<RunningProxy> => {
    const p = await startProxy(proxyConfig({ clusters, virtualHosts: [{ domains: ["*"], routes }] }), clock === undefined ? {} : { clock });
    cleanups.push(() => p.close());
    return p;
  };
  const lastFlags = (p: RunningProxy): string => formatResponseFlags(p.records.at(-1)?.flags ?? 0);
  /** An upstream that answers "ok" only once the test opens its gate (opened at cleanup at the latest). */
  const held = async (name: string): Promise<{ upstream: Upstream; gate: Gate }> => {
    const gate = new Gate();
    cleanups.push(async () => gate.open());
    const upstream = await up(name, (_req, res) => void gate.opened.then(() => res.end("ok")));
    return { upstream, gate };
  };
  const clusterStats = (p: RunningProxy, name: string) => {
    const stats = p.sidecar.runtime.clusters.get(name)?.stats;
    assert.ok(stats, `cluster ${name}`);
    return stats;
  };

  it("answers 503 UF when the endpoint refuses connections, without hanging", async () => {
    const port = await closedPort();
    const p = await proxyWith([{ name: "dead", endpoints: [{ port }] }], [route("r", {}, forward("dead"))]);
    const r = await send(p.port);
    assert.equal(r.status, 503);
    assert.match(r.body, /connection failure/);
    assert.equal(lastFlags(p), "UF");
  });

  it("answers 503 UH when the cluster has no endpoints", async () => {
    const p = await proxyWith([{ name: "empty", endpoints: [] }], [route("r", {}, forward("empty"))]);
    const r = await send(p.port);
    assert.equal(r.status, 503);
    assert.equal(r.body, "no healthy upstream");
    assert.equal(lastFlags(p), "UH");
  });

  it("answers 504 UT when the route timeout fires before the upstream answers", async () => {
    // The upstream never answers on its own: any answer the client gets is the proxy's.
    const { upstream: slow } = await held("slow");
    const p = await proxyWith([{ name: "slow", endpoints: [{ port: slow.port }] }], [route("r", {}, forward("slow", { timeoutMs: 100 }))]);
    const r = await send(p.port);
    assert.equal(r.status, 504);
    assert.equal(r.body, "upstream request timeout");
    assert.equal(lastFlags(p), "UT");
    assert.equal(p.sidecar.runtime.clusters.get("slow")?.stats.upstream_rq_timeout, 1);
  });

  it("retries 503s on other hosts, counting attempts, then succeeds", async () => {
    const bad = await up("bad", (_req, res) => {
      res.statusCode = 503;
      res.end("busy");
    });
    const good = await up("good");
    const p = await proxyWith(
      [{ name: "c", endpoints: [{ port: bad.port }, { port: good.port }], lb: "ROUND_ROBIN" }],
      [route("r", {}, forward("c", { retry: retryPolicy(2) }))],
    );
    for (let i = 0; i < 4; i++) {
      const r = await send(p.port, { path: `/${i}` });
      assert.equal(r.status, 200, r.body);
      assert.match(r.body, /^good/);
    }
    // Every request that hit "bad" first was retried once on "good" (host avoidance), with attempt 2.
    assert.ok(bad.requests.length >= 1);
    assert.equal(good.requests.length, 4);
    const retried = good.requests.filter((q) => q.headers["x-envoy-attempt-count"] === "2");
    assert.equal(retried.length, bad.requests.length);
    assert.equal(p.sidecar.runtime.clusters.get("c")?.stats.upstream_rq_retry, bad.requests.length);
  });

  it("returns the last 503 with URX once retries are exhausted", async () => {
    const bad = await up("bad", (_req, res) => {
      res.statusCode = 503;
      res.end("busy");
    });
    const p = await proxyWith([{ name: "c", endpoints: [{ port: bad.port }] }], [route("r", {}, forward("c", { retry: retryPolicy(2) }))]);
    const r = await send(p.port);
    assert.equal(r.status, 503);
    assert.equal(r.body, "busy");
    assert.equal(bad.requests.length, 3);
    assert.deepEqual(
      bad.requests.map((q) => q.headers["x-envoy-attempt-count"]),
      ["1", "2", "3"],
    );
    assert.equal(lastFlags(p), "URX");
    assert.equal(p.records.at(-1)?.attempts, 3);
  });

  it("retries a connect failure on another endpoint", async () => {
    const dead = await closedPort();
    const good = await up("good");
    const p = await proxyWith(
      [{ name: "c", endpoints: [{ port: dead }, { port: good.port }], lb: "ROUND_ROBIN" }],
      [route("r", {}, forward("c", { retry: retryPolicy(2) }))],
    );
    for (let i = 0; i < 3; i++) assert.equal((await send(p.port)).status, 200);
    assert.equal(good.requests.length, 3);
  });

  it("retries POST bodies (replayed from the buffer)", async () => {
    let n = 0;
    const flaky = await up("flaky", (_req, res, body) => {
      res.statusCode = n++ === 0 ? 503 : 200;
      res.end(`got ${body.toString()}`);
    });
    const p = await proxyWith([{ name: "c", endpoints: [{ port: flaky.port }] }], [route("r", {}, forward("c", { retry: retryPolicy(1) }))]);
    const r = await send(p.port, { method: "POST", body: "payload-123" });
    assert.equal(r.status, 200);
    assert.equal(r.body, "got payload-123");
    assert.equal(flaky.requests.length, 2);
  });

  it("per-try timeout retries, then the route answers 504 UT", async () => {
    const { upstream: slow } = await held("slow");
    const p = await proxyWith(
      [{ name: "slow", endpoints: [{ port: slow.port }] }],
      [route("r", {}, forward("slow", { timeoutMs: 0, retry: retryPolicy(1, { perTryTimeoutMs: 80, retryOn: ["5xx"] }) }))],
    );
    const r = await send(p.port);
    assert.equal(r.status, 504);
    // The second try's request may still be on its way into the upstream's server when its
    // per-try timer ends the exchange: wait for it to arrive, then count.
    await waitFor(() => slow.requests.length >= 2, { what: "the retry to reach the upstream" });
    assert.equal(slow.requests.length, 2, "one try and one retry reached the upstream");
    const stats = p.sidecar.runtime.clusters.get("slow")?.stats;
    assert.equal(stats?.upstream_rq_per_try_timeout, 2);
    assert.equal(p.records.at(-1)?.attempts, 2);
    assert.match(lastFlags(p), /UT/);
  });

  it("answers 503 UO with x-envoy-overloaded when maxRequests is reached", async () => {
    const { upstream: slow, gate } = await held("slow");
    const p = await proxyWith(
      [{ name: "c", endpoints: [{ port: slow.port }], connectionPool: { maxRequests: 1 } }],
      [route("r", {}, forward("c"))],
    );
    const first = send(p.port);
    await waitFor(() => slow.requests.length === 1, { what: "the first request to reach the upstream (and hold the one request slot)" });
    const second = await send(p.port);
    assert.equal(second.status, 503);
    assert.equal(second.headers["x-envoy-overloaded"], "true");
    gate.open();
    assert.equal((await first).status, 200);
    assert.ok(p.records.some((r) => formatResponseFlags(r.flags) === "UO"));
  });

  it("queues requests beyond maxConnections instead of opening more connections", async () => {
    const { upstream: slow, gate } = await held("slow");
    const p = await proxyWith(
      [{ name: "c", endpoints: [{ port: slow.port }], connectionPool: { maxConnections: 1 } }],
      [route("r", {}, forward("c"))],
    );
    const sent = [send(p.port), send(p.port), send(p.port)];
    // All three are in the proxy at once: one on the only connection, two queued behind it.
    await waitFor(() => slow.requests.length === 1 && clusterStats(p, "c").upstream_rq_pending_active === 2, {
      what: "one request at the upstream and two pending in the proxy",
    });
    gate.open();
    const replies = await Promise.all(sent);
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal(slow.connections, 1);
  });

  it("overflows (UO) when maxConnections and maxPendingRequests are both full", async () => {
    const { upstream: slow, gate } = await held("slow");
    const p = await proxyWith(
      [{ name: "c", endpoints: [{ port: slow.port }], connectionPool: { maxConnections: 1, maxPendingRequests: 1 } }],
      [route("r", {}, forward("c"))],
    );
    const first = send(p.port);
    await waitFor(() => slow.requests.length === 1, { what: "the first request to reach the upstream on the one connection" });
    const second = send(p.port); // waits for the one connection: the one pending slot
    await waitFor(() => clusterStats(p, "c").upstream_rq_pending_active === 1, { what: "the second request to wait in the proxy's pending slot" });
    const third = await send(p.port);
    assert.equal(third.status, 503);
    assert.equal(third.headers["x-envoy-overloaded"], "true");
    gate.open();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.equal(p.sidecar.runtime.clusters.get("c")?.stats.upstream_rq_pending_overflow, 1);
  });

  it("re-sends a body-less GET once when a pooled connection turns out to be closed", async () => {
    // Connection 1 answers one request, then drops the next without a byte (a keep-alive race).
    const { createServer } = await import("node:net");
    let conns = 0;
    const server = createServer((sock) => {
      const id = ++conns;
      let n = 0;
      sock.on("data", () => {
        n++;
        if (id === 1 && n === 2) {
          sock.destroy();
          return;
        }
        sock.write(`HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nconn ${id}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const p = await proxyWith([{ name: "c", endpoints: [{ port }] }], [route("r", {}, forward("c"))]);
    assert.equal((await send(p.port)).body, "conn 1");
    const second = await send(p.port);
    assert.equal(second.status, 200);
    assert.equal(second.body, "conn 2");
    assert.equal(p.records.at(-1)?.attempts, 1, "not counted as a retry");
  });

  it("ejects an endpoint after consecutive 5xx (outlier detection)", async () => {
    const bad = await up("bad", (_req, res) => {
      res.statusCode = 500;
      res.end("boom");
    });
    const good = await up("good");
    const p = await proxyWith(
      [
        {
          name: "c",
          lb: "ROUND_ROBIN",
          endpoints: [{ port: bad.port }, { port: good.port }],
          outlierDetection: { consecutive5xxErrors: 2, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 0, splitExternalLocalOriginErrors: false, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0 },
        },
      ],
      [route("r", {}, forward("c"))],
    );
    for (let i = 0; i < 10; i++) await send(p.port);
    assert.equal(bad.requests.length, 2, "ejected after its second 500");
    assert.equal(good.requests.length, 8);
    const host = p.sidecar.runtime.clusters.get("c")?.hostSet.hosts.find((h) => h.port === bad.port);
    assert.equal(host?.outlierEjected, true);
  });

  it("injects a delay and an abort for end-user jason only", async () => {
    // The delay runs on the proxy's Clock: the request is answered exactly when fake time
    // reaches the delay, not a millisecond before.
    const clock = new FakeClock();
    const ratings = await up("ratings");
    const p = await proxyWith(
      [{ name: "ratings", endpoints: [{ port: ratings.port }] }],
      [
        route(
          "jason",
          { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }] },
          forward("ratings", { fault: { delay: { fixedDelayMs: 150, percentage: 100 }, abort: { httpStatus: 500, percentage: 100 } } }),
        ),
        route("delay-only", { uri: { prefix: "/delay" } }, forward("ratings", { fault: { delay: { fixedDelayMs: 120, percentage: 100 } } })),
        route("default", {}, forward("ratings")),
      ],
      clock,
    );
    const delayed = async (opts: Parameters<typeof send>[1], delayMs: number) => {
      const done = p.records.length;
      const reply = send(p.port, opts);
      await waitFor(() => p.sidecar.ctx.downstream.downstream_rq_active === 1, { what: "the request to be inside the proxy" });
      clock.advance(delayMs - 1);
      // A delay timer that fired early would have answered (and recorded) inside advance().
      assert.equal(p.records.length, done, `answered before its ${delayMs} ms delay`);
      clock.advance(1);
      return reply;
    };
    const j = await delayed({ headers: { "end-user": "jason" } }, 150);
    assert.equal(j.status, 500);
    assert.equal(j.body, "fault filter abort");
    assert.equal(lastFlags(p), "DI,FI");
    assert.equal(ratings.requests.length, 0);

    const d = await delayed({ path: "/delay" }, 120);
    assert.equal(d.status, 200);
    assert.equal(lastFlags(p), "DI");

    const other = await send(p.port, { headers: { "end-user": "bob" } });
    assert.equal(other.status, 200);
    assert.equal(lastFlags(p), "-");
  });

  it("mirrors a copy with the -shadow host and ignores the mirror's fate", async () => {
    const main = await up("main");
    const mirror = await up("mirror");
    // A mirror that never answers (until cleanup) and one that refuses connections.
    const { upstream: slowMirror } = await held("slow-mirror");
    const dead = await closedPort();
    const p = await proxyWith(
      [
        { name: "main", endpoints: [{ port: main.port }] },
        { name: "mirror", endpoints: [{ port: mirror.port }] },
        { name: "slow-mirror", endpoints: [{ port: slowMirror.port }] },
        { name: "dead-mirror", endpoints: [{ port: dead }] },
      ],
      [
        route("m", { uri: { prefix: "/m" } }, forward("main", { mirrors: [{ cluster: "mirror", percentage: 100 }] })),
        route("slow", { uri: { prefix: "/slow" } }, forward("main", { mirrors: [{ cluster: "slow-mirror", percentage: 100 }, { cluster: "dead-mirror", percentage: 100 }] })),
      ],
    );
    const r = await send(p.port, { host: "reviews:9080", method: "POST", path: "/m", body: "copy me" });
    assert.equal(r.status, 200);
    assert.match(r.body, /^main POST \/m 7/);
    await waitFor(() => mirror.requests.length > 0, { what: "the mirrored copy to reach the mirror" });
    assert.equal(mirror.requests.length, 1);
    assert.equal(mirror.requests[0]?.headers.host, "reviews-shadow:9080");
    assert.equal(mirror.requests[0]?.body.toString(), "copy me");

    // The slow mirror never answers: the main response can only come if nothing waits for it.
    const s = await within(send(p.port, { path: "/slow" }), { what: "the main response while one mirror never answers and the other refuses" });
    assert.equal(s.status, 200);
    assert.equal(lastFlags(p), "-");
    await waitFor(() => slowMirror.requests.length === 1, { what: "the copy to reach the mirror that never answers" });
  });
});
