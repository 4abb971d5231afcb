// Plain-TCP downstream connections read into ONE buffer shared by all of them (`onread`, see
// DownstreamConnection). Whatever outlives a read — a request body held for a retry, pipelined
// bytes waiting for the response in flight, a partial head — must be a copy: these tests
// interleave another connection's reads between the pieces and check nothing was overwritten.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { afterEach, describe, it } from "node:test";
import { Gate, waitFor } from "../support/wait.ts";
import { forward, proxyConfig, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

interface Conn {
  socket: Socket;
  text(): string;
  reset(): void;
}

function open(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    let got = "";
    const socket = connect(port, "127.0.0.1", () => resolve({ socket, text: () => got, reset: () => void (got = "") }));
    socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
    socket.on("error", reject);
  });
}

const until = (cond: () => boolean, what = "the proxy's answer"): Promise<true> => waitFor(cond, { what, everyMs: 5 });

describe("shared downstream read buffer", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
  });
  const up = async (handler: Parameters<typeof startUpstream>[1]): Promise<Upstream> => {
    const u = await startUpstream("u", handler);
    cleanups.push(() => u.close());
    return u;
  };
  const proxy = async (u: Upstream, extra: Record<string, unknown> = {}): Promise<RunningProxy> => {
    const p = await startProxy(proxyConfig({ clusters: [{ name: "c", endpoints: [{ port: u.port }] }], virtualHosts: [{ domains: ["*"], routes: [route("r", {}, forward("c", extra))] }] }));
    cleanups.push(() => p.close());
    return p;
  };

  /** Two keep-alive connections past their first read (a connection's first bytes go through the
   * protocol dispatcher's peek, in owned memory; later reads use the shared buffer). */
  const warm = async (port: number): Promise<[Conn, Conn]> => {
    const a = await open(port);
    const b = await open(port);
    cleanups.push(async () => void (a.socket.destroy(), b.socket.destroy()));
    for (const c of [a, b]) {
      c.socket.write("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => c.text().includes("answer /warm") || c.text().includes("got "));
      c.reset();
    }
    return [a, b];
  };
  const noise = async (b: Conn, i: number): Promise<void> => {
    b.socket.write(`POST /noise-${i} HTTP/1.1\r\nHost: x\r\nx-pad: ${"Z".repeat(400)}\r\nContent-Length: 20\r\n\r\n${"Y".repeat(20)}`);
    await until(() => b.text().includes(`/noise-${i}`));
  };

  it("a body that arrives in pieces is replayed intact on retry, with other connections reading in between", async () => {
    let n = 0;
    const u = await up((req, res, body) => {
      const first = req.url === "/retry" && n++ === 0;
      res.statusCode = first ? 503 : 200;
      res.end(`${req.url} got ${body.toString()}`);
    });
    const retry = { attempts: 1, perTryTimeoutMs: 0, retryOn: ["retriable-status-codes"], retriableStatusCodes: [503], backoffBaseMs: 1, backoffMaxMs: 2, retryIgnorePreviousHosts: false };
    const p = await proxy(u, { retry });
    const [a, b] = await warm(p.port);
    a.socket.write("POST /retry HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\nAAAAAAAAAA");
    // Head and first body half came in one read: once the request is in flight, that read is done.
    await until(() => p.sidecar.ctx.downstream.downstream_rq_active === 1, "the proxy to start the request from its first read");
    // The other connection's read overwrites the shared buffer meanwhile.
    await noise(b, 1);
    a.socket.write("BBBBBBBBBB");
    await until(() => a.text().includes("/retry got "));
    assert.match(a.text(), /^HTTP\/1\.1 200 /);
    assert.ok(a.text().endsWith("/retry got AAAAAAAAAABBBBBBBBBB"), a.text());
    assert.equal(u.requests.filter((r) => r.url === "/retry").length, 2);
  });

  it("pipelined requests and a partial head held across reads survive other connections' traffic", async () => {
    // /slow is answered only after the other connection's traffic: the pipelined bytes are held meanwhile.
    const slowDone = new Gate();
    cleanups.push(async () => slowDone.open());
    const u = await up((req, res) => void (req.url === "/slow" ? slowDone.opened : Promise.resolve()).then(() => res.end(`answer ${req.url}`)));
    const p = await proxy(u);
    const [a, b] = await warm(p.port);
    // The second request waits (pipelined) while /slow is in flight; the third head is cut in two.
    a.socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\nGET /thi");
    await until(() => u.requests.some((r) => r.url === "/slow"), "/slow to reach the upstream (the read holding all three pieces is done)");
    for (let i = 0; i < 3; i++) await noise(b, i);
    a.socket.write("rd HTTP/1.1\r\nHost: x\r\n\r\n");
    slowDone.open();
    await until(() => a.text().includes("answer /third"));
    const order = [...a.text().matchAll(/answer (\/(?:slow|second|third))/g)].map((m) => m[1]);
    assert.deepEqual(order, ["/slow", "/second", "/third"]);
  });
});
