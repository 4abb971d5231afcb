// Cascading-failure protection end to end: one sidecar calls a healthy service, a service whose
// upstream accepts requests and never answers, and a service whose upstream never completes the
// TCP handshake. With a route timeout, connectTimeout and small connection-pool limits (through
// translation of a DestinationRule and VirtualService), every call to the broken services fails
// fast and within the configured bounds (504 UT, 503 UO, 503 UF) while calls to the healthy
// service on the same proxy keep their normal latency.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { clientConfig, closeServer, clusterStat, get, instance, listen, resources, service, startSidecar, type Proxy, type Reply } from "./harness.ts";

const CONFIG = `${service("fast")}${service("slow")}${service("blackhole")}
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: slow, namespace: default}
spec:
  host: slow
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 2, connectTimeout: 100ms}
      http: {http1MaxPendingRequests: 2}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: slow, namespace: default}
spec:
  hosts: [slow]
  http:
  - timeout: 300ms
    retries: {attempts: 0}
    route:
    - destination: {host: slow}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: blackhole, namespace: default}
spec:
  host: blackhole
  trafficPolicy:
    connectionPool:
      tcp: {connectTimeout: 100ms}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: blackhole, namespace: default}
spec:
  hosts: [blackhole]
  http:
  - retries: {attempts: 0}
    route:
    - destination: {host: blackhole}
`;

/**
 * A listener that never accepts: a child process listens with backlog 1 and then blocks its
 * only thread (Atomics.wait, no CPU). Once its accept queue is full the kernel drops new SYNs,
 * so a connect to it hangs until the caller's own timeout.
 */
async function blackhole(): Promise<{ port: number; child: ChildProcess; fillers: Socket[] }> {
  const code = `const s=require("node:net").createServer();s.listen({host:"127.0.0.1",port:0,backlog:1},()=>{process.stdout.write(String(s.address().port)+"\\n");setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0),50)});`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", () => reject(new Error("blackhole exited")));
  });
  await new Promise((r) => setTimeout(r, 150));
  // Fill the accept queue (backlog 1 holds up to 2 on Linux) so later handshakes never complete.
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = connect(port, "127.0.0.1");
    s.on("error", () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  return { port, child, fillers };
}

describe("a slow upstream does not drag the caller or its neighbours down", () => {
  let fast: Server;
  let slow: Server;
  const hanging: ServerResponse[] = [];
  let open = 0;
  let maxOpen = 0;
  let hole: Awaited<ReturnType<typeof blackhole>>;
  let p: Proxy;

  before(async () => {
    fast = createServer((_req, res) => res.end("fast"));
    // Accepts the request and never answers (a 10 s+ sleep, cut short when the test ends).
    slow = createServer((_req, res) => void hanging.push(res));
    slow.on("connection", (sock: Socket) => {
      maxOpen = Math.max(maxOpen, ++open);
      sock.on("close", () => open--);
    });
    const fastPort = await listen(fast);
    const slowPort = await listen(slow);
    hole = await blackhole();
    const cfg = clientConfig(resources([], [CONFIG]), [
      instance("fast-0", { app: "fast" }, 8080, fastPort),
      instance("slow-0", { app: "slow" }, 8080, slowPort),
      instance("blackhole-0", { app: "blackhole" }, 8080, hole.port),
    ]);
    p = await startSidecar(cfg);
  });

  after(async () => {
    await p.close();
    for (const r of hanging) r.destroy();
    for (const s of [fast, slow]) await closeServer(s);
    for (const s of hole.fillers) s.destroy();
    hole.child.kill("SIGKILL");
  });

  it("20 concurrent calls to the hanging service: 504 UT at the route timeout or 503 UO at once; the fast service is unaffected", async () => {
    const t0 = performance.now();
    const storm = Promise.all(Array.from({ length: 20 }, () => get(p.port, "slow:8000", "/delay/10")));
    // Meanwhile, the neighbour: sequential calls while the storm is in flight.
    const neighbour: Reply[] = [];
    while (performance.now() - t0 < 250) neighbour.push(await get(p.port, "fast:8000", "/"));
    const replies = await storm;
    const total = performance.now() - t0;

    const ut = replies.filter((r) => r.status === 504);
    const uo = replies.filter((r) => r.status === 503);
    assert.equal(ut.length + uo.length, 20, `only 504/503: ${replies.map((r) => r.status).join(",")}`);
    // maxConnections 2 hold two requests on the wire, http1MaxPendingRequests 2 hold two more.
    assert.equal(ut.length, 4);
    assert.equal(uo.length, 16);
    for (const r of ut) {
      assert.equal(r.body, "upstream request timeout");
      assert.ok(r.ms >= 290 && r.ms < 1500, `504 at the 300 ms route timeout (${r.ms.toFixed(0)} ms)`);
    }
    for (const r of uo) {
      assert.equal(r.headers["x-envoy-overloaded"], "true");
      assert.ok(r.ms < 250, `503 UO without waiting (${r.ms.toFixed(0)} ms)`);
    }
    assert.ok(total < 1500, `the whole storm is bounded by the route timeout (${total.toFixed(0)} ms)`);
    const flags = p.records.filter((r) => r.status >= 500).map((r) => r.flags).sort();
    assert.deepEqual(flags, [...Array(16).fill("UO"), ...Array(4).fill("UT")]);
    const slowCluster = "outbound|8000||slow.default.svc.cluster.local";
    assert.equal(await clusterStat(p.adminPort, slowCluster, "upstream_rq_pending_overflow"), 16);
    assert.equal(await clusterStat(p.adminPort, slowCluster, "upstream_rq_timeout"), 4);
    assert.equal(maxOpen, 2, "never more than maxConnections open to the slow upstream at once");
    assert.ok((await clusterStat(p.adminPort, slowCluster, "upstream_cx_overflow")) >= 2);

    assert.ok(neighbour.length >= 3, `the fast service was called during the storm (${neighbour.length})`);
    for (const r of neighbour) {
      assert.equal(r.status, 200);
      assert.equal(r.body, "fast");
      assert.ok(r.ms < 200, `normal latency for the neighbour (${r.ms.toFixed(0)} ms)`);
    }
  });

  it("a connect that never completes fails at connectTimeout with 503 UF", async () => {
    const replies = await Promise.all(Array.from({ length: 3 }, () => get(p.port, "blackhole:8000", "/")));
    for (const r of replies) {
      assert.equal(r.status, 503);
      assert.match(r.body, /upstream connect error/);
      assert.ok(r.ms >= 90 && r.ms < 1000, `failed at the 100 ms connectTimeout (${r.ms.toFixed(0)} ms)`);
    }
    const last = p.records.slice(-3).map((r) => r.flags);
    assert.deepEqual(last, ["UF", "UF", "UF"]);
    assert.equal(await clusterStat(p.adminPort, "outbound|8000||blackhole.default.svc.cluster.local", "upstream_cx_connect_fail"), 3);
    // And the neighbour is still fine.
    const ok = await get(p.port, "fast:8000", "/");
    assert.equal(ok.status, 200);
  });
});
