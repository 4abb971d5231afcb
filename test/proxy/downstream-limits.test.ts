// Robustness against clients that open connections, send half a request head and stop (issue 10):
// raw sockets against a real sidecar.
//   - request headers timeout: every half head gets 408 and is closed, counted in
//     http.downstream_rq_header_timeout, while complete requests keep being served;
//   - a listener's connection limit: past it new connections are closed at accept and counted in
//     listener.<name>.downstream_cx_overflow; the other listeners keep serving;
//   - the proxy-wide limit (overload.global_downstream_max_connections): every listener refuses,
//     counted in downstream_global_cx_overflow, until connections go away.
// The stats are read from the admin listener (GET /stats), as an operator would.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, dial, listen, readAll } from "../protocols/harness.ts";
import { send } from "./sidecar-harness.ts";
import { waitFor } from "../support/wait.ts";

const HALF_HEAD = "GET /slowloris HTTP/1.1\r\nHost: app\r\nUser-Agent: half";
const NO_RETRY = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: false };

function config(appPort: number, listeners: Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: "limits-1",
    node: { id: "sidecar~t", kind: "sidecar", workload: "t", namespace: "default", labels: {}, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" },
    listeners: listeners.map((l) => ({ direction: "outbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "r", ...l })),
    routes: [{ name: "r", virtualHosts: [{ name: "app", domains: ["*"], routes: [{ name: "app", match: { headers: [], queryParams: [], ignoreUriCase: false }, action: { kind: "forward", clusters: [{ cluster: "app", weight: 100 }], timeoutMs: 0, retry: NO_RETRY, mirrors: [] } }] }] }],
    clusters: [{ name: "app", direction: "outbound", discovery: "eds", protocol: "http1", lb: { policy: "ROUND_ROBIN" }, connectionPool: {} }],
    endpoints: { app: [{ address: "127.0.0.1", port: appPort, weight: 1, labels: {}, healthy: true }] },
    ...extra,
  };
}

async function stats(sidecar: Sidecar): Promise<Record<string, number>> {
  const r = await send(sidecar.adminPort as number, { path: "/stats", host: "admin" });
  const out: Record<string, number> = {};
  for (const line of r.body.split("\n")) {
    const i = line.lastIndexOf(": ");
    if (i > 0) out[line.slice(0, i)] = Number(line.slice(i + 2));
  }
  return out;
}

/** `n` connections that each send half a request head and then nothing. */
async function halfHeads(port: number, n: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = await dial(port);
    s.on("error", () => undefined);
    s.write(HALF_HEAD);
    out.push(s);
  }
  return out;
}

describe("downstream limits", () => {
  let app: Server;
  let appPort = 0;

  before(async () => {
    app = createServer((_req, res) => res.end("ok"));
    appPort = await listen(app);
  });

  after(async () => {
    await closeServer(app);
  });

  it("request headers timeout: 500 half heads get 408 and are closed; complete requests are served meanwhile", async () => {
    // A short timeout keeps the test quick; what is asserted is the outcome, not the time.
    const sidecar = await Sidecar.start(config(appPort, [{ name: "front", requestHeadersTimeoutMs: 300 }]), { adminPort: 0 });
    try {
      const port = sidecar.ports().front as number;
      const sockets = await halfHeads(port, 500);
      const outcomes = sockets.map((s) => readAll(s, 30_000));
      // Served while the half heads are held.
      const ok = await send(port, { path: "/", host: "app" });
      assert.equal(ok.status, 200);
      const done = await Promise.all(outcomes);
      assert.ok(done.every((d) => d.closed), "every half-head connection was closed");
      const statuses = new Set(done.map((d) => d.data.toString("latin1").split("\r\n")[0]));
      assert.deepEqual([...statuses], ["HTTP/1.1 408 Request Timeout"]);
      assert.match(done[0]!.data.toString("latin1"), /connection: close\r\n\r\nrequest header timeout$/);
      const st = await stats(sidecar);
      assert.equal(st["http.downstream_rq_header_timeout"], 500);
      // A keep-alive connection: the first request is served, its next head that stalls gets 408.
      const s = await dial(port);
      const all = readAll(s, 30_000);
      s.write("GET /one HTTP/1.1\r\nHost: app\r\n\r\n" + HALF_HEAD);
      const text = (await all).data.toString("latin1");
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nokHTTP\/1\.1 408 Request Timeout\r\n/);
      assert.equal((await stats(sidecar))["http.downstream_rq_header_timeout"], 501);
    } finally {
      await sidecar.close(100);
    }
  });

  it("a listener's connection limit and the proxy-wide limit refuse new connections at accept, with Envoy's counters", async () => {
    // No head timeout here: the half heads must stay open.
    const sidecar = await Sidecar.start(config(appPort, [{ name: "front", connectionLimit: 20 }, { name: "other" }]), { adminPort: 0 });
    const held: Socket[] = [];
    try {
      const front = sidecar.ports().front as number;
      const other = sidecar.ports().other as number;
      held.push(...(await halfHeads(front, 20)));
      await waitFor(() => sidecar.listenerStats().find((l) => l.name === "front")?.activeConnections === 20, { what: "the front listener to hold 20 connections" });
      // Past the limit: closed at once, nothing answered.
      for (let i = 0; i < 30; i++) {
        const s = await dial(front);
        s.write(HALF_HEAD);
        const r = await readAll(s, 10_000);
        assert.deepEqual([r.closed, r.data.length], [true, 0]);
      }
      let st = await stats(sidecar);
      assert.equal(st["listener.front.downstream_cx_overflow"], 30);
      assert.equal(st["listener.front.downstream_cx_active"], 20);
      // The other listener keeps serving.
      assert.equal((await send(other, { path: "/", host: "app" })).status, 200);

      // Proxy-wide limit of 25 open connections: 20 are held; 5 more fit, then every listener refuses.
      const applied = await sidecar.applyConfig(config(appPort, [{ name: "front", connectionLimit: 20 }, { name: "other" }], { version: "limits-2", overload: { globalDownstreamMaxConnections: 25 } }));
      assert.deepEqual(applied, { ok: true, version: "limits-2" });
      held.push(...(await halfHeads(other, 5)));
      await waitFor(() => sidecar.listenerStats().find((l) => l.name === "other")?.activeConnections === 5, { what: "the other listener to hold 5 connections" });
      const refused = await dial(other);
      const r = await readAll(refused, 10_000);
      assert.deepEqual([r.closed, r.data.length], [true, 0]);
      st = await stats(sidecar);
      assert.equal(st["listener.other.downstream_global_cx_overflow"], 1);
      // Connections going away free the capacity.
      for (const s of held.splice(0, 10)) s.destroy();
      await waitFor(() => sidecar.listenerStats().reduce((n, l) => n + l.activeConnections, 0) <= 15, { what: "the proxy to see 10 connections close" });
      assert.equal((await send(other, { path: "/", host: "app" })).status, 200);
    } finally {
      for (const s of held) s.destroy();
      await sidecar.close(100);
    }
  });
});
