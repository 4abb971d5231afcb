// Protocol detection on `auto` listeners, end to end: curl over HTTP/1.1 and h2c prior knowledge
// is routed; opaque bytes, a server-first protocol (the client waits for a banner) and TLS
// (curl https to a TLS upstream, passed through) go to the listener's tcpRoute.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { readFileSync } from "node:fs";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { waitFor } from "../support/wait.ts";
import { closeServer, dial, listen, readUntil, run } from "./harness.ts";
import { h2Config } from "./h2-harness.ts";
import { makePki, type Pki } from "./pki.ts";

describe("protocol detection (listener protocol auto)", () => {
  let http: Server;
  let tcp: NetServer;
  let https: HttpsServer;
  let pki: Pki;
  let sidecar: Sidecar;
  const sockets = new Set<Socket>();
  let plainPort = 0;
  let tlsPort = 0;
  let httpPort = 0;
  let tcpPort = 0;

  before(async () => {
    http = createServer((req, res) => res.end(`http ${req.httpVersion} ${req.url}`));
    // Server-first: a banner at once, then an echo of whatever arrives.
    tcp = createNetServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
      s.write("BANNER\n");
      s.on("data", (b: Buffer) => s.write(Buffer.concat([Buffer.from("echo:"), b])));
    });
    pki = await makePki({ tls: ["tls.test"] });
    const leaf = pki.leaf("tls");
    https = createHttpsServer({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }, (req, res) => res.end(`tls upstream ${req.url}`));
    httpPort = await listen(http);
    tcpPort = await listen(tcp);
    const httpsPort = await listen(https);
    const cfg = h2Config({ protocol: "auto", tcpRoute: { clusters: [{ cluster: "tcp", weight: 1 }] } }, [{ name: "r", cluster: "http" }], [
      { name: "http", ports: [httpPort] },
      { name: "tcp", protocol: "tcp", ports: [tcpPort] },
      { name: "tls", protocol: "tcp", ports: [httpsPort] },
    ]) as { listeners: Record<string, unknown>[] };
    cfg.listeners.push({ name: "auto-tls", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "auto", routeConfigName: "outbound", protocolDetectionTimeoutMs: 50, tcpRoute: { clusters: [{ cluster: "tls", weight: 1 }] } });
    sidecar = await Sidecar.start(cfg);
    plainPort = sidecar.ports().outbound!;
    tlsPort = sidecar.ports()["auto-tls"]!;
  });

  after(async () => {
    await sidecar.close(100);
    for (const s of sockets) s.destroy();
    await closeServer(http);
    await closeServer(tcp);
    await closeServer(https as unknown as Server);
    pki.cleanup();
  });

  it("HTTP/1.1 (curl) is routed", async () => {
    const r = await run("curl", ["-sS", "--max-time", "3", "--http1.1", `http://127.0.0.1:${plainPort}/a`]);
    assert.equal(r.stdout, "http 1.1 /a");
  });

  it("h2c prior knowledge (curl) is routed", async () => {
    const r = await run("curl", ["-sS", "--max-time", "3", "--http2-prior-knowledge", "-w", " %{http_version}", `http://127.0.0.1:${plainPort}/b`]);
    assert.equal(r.stdout, "http 1.1 /b 2");
  });

  it("opaque bytes go to the tcpRoute", async () => {
    const s = await dial(plainPort);
    s.write(Buffer.from([0x00, 0x01, 0x68, 0x69]));
    const got = await readUntil(s, (b) => b.includes("echo:"));
    s.destroy();
    assert.ok(got.toString("latin1").startsWith("BANNER\necho:\x00\x01hi"), JSON.stringify(got.toString("latin1")));
  });

  it("a server-first protocol: a silent client still gets the banner once the bound passes", async () => {
    const s = await dial(plainPort);
    const got = await readUntil(s, (b) => b.includes("BANNER\n"), 3000);
    s.write("QUIT\n");
    const echo = await readUntil(s, (b) => b.includes("echo:QUIT"));
    s.destroy();
    assert.equal(got.toString(), "BANNER\n");
    assert.ok(echo.toString().includes("echo:QUIT"));
  });

  it("bytes that came while the sidecar was off the CPU past the bound are still detected: HTTP/1.1, not TCP", async () => {
    // The bound on a fake clock, passed in the same turn as the client's write: the request sits
    // unread in the kernel when the timer fires, as after a stall of the sidecar's process (its
    // event loop runs due timers before it polls the sockets). Routed as TCP, it got the banner.
    const clock = new FakeClock();
    const cfg = h2Config({ protocol: "auto", tcpRoute: { clusters: [{ cluster: "tcp", weight: 1 }] } }, [{ name: "r", cluster: "http" }], [
      { name: "http", ports: [httpPort] },
      { name: "tcp", protocol: "tcp", ports: [tcpPort] },
    ]);
    const s2 = await Sidecar.start(cfg, { clock });
    try {
      const before = clock.pendingDelays().filter((d) => d === 100).length;
      const s = await dial(s2.ports().outbound!);
      await waitFor(() => clock.pendingDelays().filter((d) => d === 100).length > before, { what: "the sidecar to accept and arm its 100 ms detection bound" });
      // From a timer callback, where a real timer fires: the event loop's next phase is the poll.
      await new Promise<void>((r) => setTimeout(r, 1));
      s.write("GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      clock.advance(100);
      const got = (await readUntil(s, (b) => b.includes("http 1.1 /late") || b.includes("BANNER"))).toString("latin1");
      s.destroy();
      assert.match(got, /http 1\.1 \/late/);
    } finally {
      await s2.close(100);
    }
  });

  it("TLS (a ClientHello) passes through to the tcpRoute: curl https reaches the TLS upstream", async () => {
    const r = await run("curl", ["-sS", "--max-time", "3", "--cacert", pki.ca, "--resolve", `tls.test:${tlsPort}:127.0.0.1`, `https://tls.test:${tlsPort}/secure`]);
    assert.equal(r.stdout, "tls upstream /secure", r.stderr);
  });

  it("a client that closes first: the upstream connection is closed too, even when the upstream answers after the client's FIN", async () => {
    // The upstream answers only once it has the client's FIN, and then closes: by then the
    // client side of the relay is gone (an auto listener does not keep half-open connections).
    const late = createNetServer({ allowHalfOpen: true }, (s) => {
      s.on("error", () => undefined);
      s.resume();
      s.on("end", () => s.end("late answer"));
    });
    let upstreamClosed = 0;
    late.on("connection", (s: Socket) => s.on("close", () => upstreamClosed++));
    const latePort = await listen(late);
    const cfg = h2Config({ protocol: "auto", tcpRoute: { clusters: [{ cluster: "late", weight: 1 }] } }, [{ name: "r", cluster: "http" }], [
      { name: "http", ports: [latePort] },
      { name: "late", protocol: "tcp", ports: [latePort] },
    ]);
    const s2 = await Sidecar.start(cfg);
    try {
      const stats = s2.runtime.clusters.get("late")!.stats;
      const s = await dial(s2.ports().outbound!);
      s.on("error", () => undefined);
      s.end(Buffer.from([0x00, 0x01, 0x02]));
      await waitFor(() => upstreamClosed === 1, { what: "the upstream's side to close" });
      await waitFor(() => stats.upstream_cx_active === 0, { what: "the proxy to close its upstream connection (upstream_cx_active 0)" });
    } finally {
      await s2.close(100);
      await closeServer(late);
    }
  });
});
