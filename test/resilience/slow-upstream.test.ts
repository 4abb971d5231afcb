// Cascading-failure protection end to end: one sidecar calls a healthy service, a service whose
// upstream accepts requests and never answers, and a service whose upstream never completes the
// TCP handshake. With a route timeout, connectTimeout and small connection-pool limits (through
// translation of a DestinationRule and VirtualService), every call to the broken services fails
// fast (504 UT at the route timeout, 503 UO at once, 503 UF at connectTimeout) while calls to
// the healthy service on the same proxy, made while the broken calls are held, keep working.
// "Fast" is shown by order, not by stopwatch: every UO answer comes before any UT answer, and
// the neighbour's calls complete while the slow calls are still held.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../support/wait.ts";
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
  - timeout: 1s
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
 * A listener that never accepts: a child process listens with backlog 1, writes its port
 * (synchronously) and blocks its only thread in the same callback (Atomics.wait, no CPU), so it
 * never returns to its event loop to accept. Once its accept queue is full the kernel drops new
 * SYNs, so a connect to it hangs until the caller's own timeout.
 */
async function blackhole(): Promise<{ port: number; child: ChildProcess; fillers: Socket[] }> {
  const code = `const s=require("node:net").createServer();s.listen({host:"127.0.0.1",port:0,backlog:1},()=>{require("node:fs").writeSync(1,String(s.address().port)+"\\n");Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)});`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", () => reject(new Error("blackhole exited")));
  });
  // Fill the accept queue (backlog 1 holds 2 on Linux) so later handshakes never complete: two
  // fillers complete their handshake into the queue, the others hang like every later connect.
  const fillers: Socket[] = [];
  let connected = 0;
  for (let i = 0; i < 4; i++) {
    const s = connect(port, "127.0.0.1", () => connected++);
    s.on("error", () => {});
    fillers.push(s);
  }
  await waitFor(() => connected >= 2, { what: "two connections to fill the blackhole's accept queue" });
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

  it("20 concurrent calls to the hanging service: 503 UO at once, 504 UT at the route timeout; the fast service is unaffected meanwhile", async () => {
    const slowCluster = "outbound|8000||slow.default.svc.cluster.local";
    /** Storm replies in the order they arrived. */
    const arrived: Reply[] = [];
    const storm = Promise.all(Array.from({ length: 20 }, () => get(p.port, "slow:8000", "/delay/10").then((r) => (arrived.push(r), r))));
    // The storm in place: maxConnections 2 hold two requests on the wire (the upstream has them),
    // http1MaxPendingRequests 2 hold two more in the proxy, the other sixteen are refused.
    await waitFor(async () => hanging.length === 2 && arrived.length >= 16 && (await clusterStat(p.adminPort, slowCluster, "upstream_rq_pending_active")) === 2, {
      what: "two requests at the slow upstream, two pending in the proxy and sixteen answered",
    });
    // Meanwhile, the neighbour: sequential calls while the slow ones are held.
    const neighbour: Reply[] = [];
    for (let i = 0; i < 3; i++) neighbour.push(await get(p.port, "fast:8000", "/"));
    const heldDuringNeighbour = p.records.filter((r) => r.flags === "UT").length === 0;
    const replies = await storm;

    const ut = replies.filter((r) => r.status === 504);
    const uo = replies.filter((r) => r.status === 503);
    assert.equal(ut.length + uo.length, 20, `only 504/503: ${replies.map((r) => r.status).join(",")}`);
    assert.equal(ut.length, 4);
    assert.equal(uo.length, 16);
    for (const r of uo) assert.equal(r.headers["x-envoy-overloaded"], "true");
    assert.deepEqual(
      arrived.map((r) => r.status),
      [...Array(16).fill(503), ...Array(4).fill(504)],
      "every overflow answered at once, before the route timeout ended the held calls",
    );
    for (const r of ut) {
      assert.equal(r.body, "upstream request timeout");
      // A timer never fires early (10 ms for the event loop's coarse clock): no 504 before the route timeout.
      assert.ok(r.ms >= 990, `504 at the 1 s route timeout, not before (${r.ms.toFixed(0)} ms)`);
    }
    const flags = p.records.filter((r) => r.status >= 500).map((r) => r.flags).sort();
    assert.deepEqual(flags, [...Array(16).fill("UO"), ...Array(4).fill("UT")]);
    assert.equal(await clusterStat(p.adminPort, slowCluster, "upstream_rq_pending_overflow"), 16);
    assert.equal(await clusterStat(p.adminPort, slowCluster, "upstream_rq_timeout"), 4);
    assert.equal(maxOpen, 2, "never more than maxConnections open to the slow upstream at once");
    assert.ok((await clusterStat(p.adminPort, slowCluster, "upstream_cx_overflow")) >= 2);

    for (const r of neighbour) {
      assert.equal(r.status, 200);
      assert.equal(r.body, "fast");
    }
    assert.ok(heldDuringNeighbour, "the neighbour's calls completed while the slow calls were held");
  });

  it("a connect that never completes fails at connectTimeout with 503 UF", async () => {
    const replies = await Promise.all(Array.from({ length: 3 }, () => get(p.port, "blackhole:8000", "/")));
    for (const r of replies) {
      assert.equal(r.status, 503);
      assert.match(r.body, /upstream connect error/);
      assert.ok(r.ms >= 90, `failed at the 100 ms connectTimeout, not before (${r.ms.toFixed(0)} ms)`);
    }
    const last = p.records.slice(-3).map((r) => r.flags);
    assert.deepEqual(last, ["UF", "UF", "UF"]);
    assert.equal(await clusterStat(p.adminPort, "outbound|8000||blackhole.default.svc.cluster.local", "upstream_cx_connect_fail"), 3);
    // And the neighbour is still fine.
    const ok = await get(p.port, "fast:8000", "/");
    assert.equal(ok.status, 200);
  });
});
