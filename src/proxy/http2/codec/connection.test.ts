// H2Connection against node:http2's client as the independent peer, over real sockets, reading into
// the shared read buffer as the sidecar's connections do (frames.test.ts: the 'data' path).
import { describe, it, after, before } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { H2Connection, type H2ConnectionOptions } from "./connection.ts";
import type { H2ServerStream } from "./server-stream.ts";

type Handler = (s: H2ServerStream, h: IncomingHttpHeaders, endStream: boolean) => void;

interface Rig {
  url: string;
  conns: H2Connection[];
  handler: Handler;
  server: Server;
}

async function rig(handler: Handler, opts: Partial<H2ConnectionOptions> = {}): Promise<Rig> {
  const r: Rig = { url: "", conns: [], handler, server: null as unknown as Server };
  r.server = createServer((sock: Socket) => {
    r.conns.push(new H2Connection(sock, { onStream: (s, h, e) => r.handler(s, h, e), onClose: () => undefined }, { now: () => performance.now(), sharedReads: true, ...opts }));
  });
  r.server.listen(0, "127.0.0.1");
  await once(r.server, "listening");
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
  return r;
}

/** Read a client stream to its end: body, headers, trailers. */
async function fetchAll(req: ReturnType<ClientHttp2Session["request"]>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; trailers: IncomingHttpHeaders | null }> {
  let headers: IncomingHttpHeaders = {};
  let trailers: IncomingHttpHeaders | null = null;
  const chunks: Buffer[] = [];
  req.on("response", (h) => (headers = h));
  req.on("trailers", (t) => (trailers = t));
  req.on("data", (b: Buffer) => chunks.push(b));
  await once(req, "end");
  return { status: Number(headers[":status"]), headers, body: Buffer.concat(chunks), trailers };
}

/** Collect a server stream's request body, then call `done`. */
function readBody(s: H2ServerStream, done: (b: Buffer) => void): void {
  const chunks: Buffer[] = [];
  s.on("data", (b) => chunks.push(b));
  s.on("end", () => done(Buffer.concat(chunks)));
}

describe("H2Connection (node:http2 client as peer)", () => {
  let r: Rig;
  let client: ClientHttp2Session;
  before(async () => {
    r = await rig(() => undefined);
  });
  after(() => {
    client?.close();
    r.server.close();
    for (const c of r.conns) c.destroy();
  });

  it("answers a request with a body: headers as node builds them, response body both ways", async () => {
    let seen: IncomingHttpHeaders = {};
    r.handler = (s, h, endStream) => {
      seen = h;
      assert.equal(endStream, false);
      readBody(s, (body) => {
        s.respond([":status", "201", "content-type", "text/plain", "x-echo", String(body.length)] as never, {});
        s.write(Buffer.from("got "));
        s.end(body.toString());
      });
    };
    client = connect(r.url);
    const req = client.request({ ":method": "POST", ":path": "/up?x=1", cookie: ["a=1", "b=2"], "x-multi": ["1", "2"], "content-type": "text/plain" });
    req.end("hello");
    const res = await fetchAll(req);
    assert.equal(res.status, 201);
    assert.equal(res.body.toString(), "got hello");
    assert.equal(res.headers["x-echo"], "5");
    assert.equal(seen[":method"], "POST");
    assert.equal(seen[":path"], "/up?x=1");
    assert.equal(seen[":scheme"], "http");
    assert.equal(seen.cookie, "a=1; b=2");
    assert.deepEqual(seen["x-multi"], ["1", "2"]);
  });

  it("sends response trailers after the body (waitForTrailers)", async () => {
    r.handler = (s) => {
      s.respond([":status", "200", "content-type", "application/grpc"] as never, { waitForTrailers: true });
      s.once("wantTrailers", () => s.sendTrailers({ "grpc-status": "0", "grpc-message": "ok" }));
      s.write(Buffer.from([0, 0, 0, 0, 1, 7]));
      s.end();
    };
    const res = await fetchAll(client.request({ ":path": "/svc/Method" }, { endStream: true }));
    assert.deepEqual([...res.body], [0, 0, 0, 0, 1, 7]);
    assert.equal(res.trailers?.["grpc-status"], "0");
    assert.equal(res.trailers?.["grpc-message"], "ok");
  });

  it("continue100(): an interim 100 head before the final one (the client sends its body on it)", async () => {
    r.handler = (s) => {
      s.continue100();
      readBody(s, (body) => {
        s.respond([":status", "200"] as never, {});
        s.end(`got ${body.length}`);
      });
    };
    const req = client.request({ ":method": "POST", ":path": "/up", expect: "100-continue" });
    // node:http2's client emits 'continue' on a 100 head; only then does this client send its body.
    await once(req, "continue");
    req.end(Buffer.alloc(3000, 1));
    const res = await fetchAll(req);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "got 3000");
  });

  it("honours a small peer window for a large response: write() → false, 'drain', every byte arrives", async () => {
    const small = connect(r.url, { settings: { initialWindowSize: 1000 } });
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    let drains = 0;
    r.handler = (s) => {
      s.respond([":status", "200"] as never, {});
      let o = 0;
      const pump = (): void => {
        while (o < body.length) {
          const ok = s.write(body.subarray(o, o + 64 * 1024));
          o += 64 * 1024;
          if (!ok) return;
        }
        s.end();
      };
      s.on("drain", () => {
        drains++;
        pump();
      });
      pump();
    };
    const res = await fetchAll(small.request({ ":path": "/big" }, { endStream: true }));
    small.close();
    assert.equal(res.body.length, body.length);
    assert.ok(res.body.equals(body));
    assert.ok(drains > 0, "the writer waited for window at least once");
  });

  it("a large request body with the reader pausing and resuming arrives whole (window given back as read)", async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    let got = 0;
    r.handler = (s) => {
      s.on("data", (b) => {
        got += b.length;
        s.pause();
        setImmediate(() => s.resume());
      });
      s.on("end", () => {
        s.respond([":status", "200", "x-got", String(got)] as never, { endStream: true });
      });
    };
    const req = client.request({ ":method": "PUT", ":path": "/up" });
    req.end(body);
    const res = await fetchAll(req);
    assert.equal(res.headers["x-got"], String(body.length));
  });

  it("RST_STREAM from the client mid-body closes the server stream", async () => {
    const closed = new Promise<number>((resolve) => {
      r.handler = (s) => {
        let n = 0;
        s.on("data", (b) => {
          n += b.length;
          if (n >= 10) req.close(constants.NGHTTP2_CANCEL);
        });
        s.on("close", () => resolve(n));
      };
    });
    const req = client.request({ ":method": "POST", ":path": "/rst" });
    req.on("error", () => undefined);
    req.write(Buffer.alloc(10));
    assert.ok((await closed) >= 10);
  });

  it("a connection lost mid-request closes its open streams", async () => {
    let closed!: Promise<void>;
    const arrived = new Promise<void>((resolve) => {
      r.handler = (s) => {
        closed = new Promise<void>((done) => s.on("close", done));
        resolve();
      };
    });
    const c = connect(r.url);
    c.on("error", () => undefined);
    const req = c.request({ ":method": "POST", ":path": "/gone" });
    req.on("error", () => undefined);
    req.write("part");
    await arrived;
    c.destroy();
    await closed;
  });

  it("close(): GOAWAY, the stream in flight finishes, the connection ends", async () => {
    let held: H2ServerStream | null = null;
    const arrived = new Promise<void>((resolve) => {
      r.handler = (s) => {
        held = s;
        resolve();
      };
    });
    const c = connect(r.url);
    const req = c.request({ ":path": "/slow" }, { endStream: true });
    const res = fetchAll(req);
    await arrived;
    const conn = r.conns[r.conns.length - 1] as H2Connection;
    const goaway = once(c, "goaway");
    conn.close();
    await goaway;
    assert.equal(conn.activeStreams, 1);
    (held as unknown as H2ServerStream).respond([":status", "200"] as never, {});
    (held as unknown as H2ServerStream).end("bye");
    assert.equal((await res).body.toString(), "bye");
    await once(c, "close");
  });

  it("announces its settings: max concurrent streams, max header list size", async () => {
    const r2 = await rig(() => undefined, { maxConcurrentStreams: 7 });
    const c = connect(r2.url);
    await once(c, "remoteSettings");
    assert.equal(c.remoteSettings.maxConcurrentStreams, 7);
    assert.equal(c.remoteSettings.maxHeaderListSize, 64 * 1024);
    c.close();
    r2.server.close();
  });
});
