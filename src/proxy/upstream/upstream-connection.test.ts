// UpstreamConnection on a fake clock and fake sockets: connect timeout, max connection duration,
// response framing and the reuse decision, with no network.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { FakeDialer, flush, type FakeSocket } from "../../testing/fake-socket.ts";
import type { ResponseHead } from "../http1/types.ts";
import { UpstreamConnection, type ConnectionOwner, type UpstreamErrorKind, type UpstreamSink } from "./upstream-connection.ts";

class Owner implements ConnectionOwner {
  connectTimeoutMs = 10_000;
  idleTimeoutMs = 3_600_000;
  maxRequestsPerConnection = 0;
  maxConnectionDurationMs = 0;
  keepAliveDelayMs: number | undefined = undefined;
  readonly clock = new FakeClock();
  readonly dialer = new FakeDialer();
  readonly dial = this.dialer.dial;
  readonly events: string[] = [];
  onConnected(): void {
    this.events.push("connected");
  }
  onReleased(_c: UpstreamConnection, reusable: boolean): void {
    this.events.push(`released reusable=${reusable}`);
  }
  onClosed(): void {
    this.events.push("closed");
  }
}

class Sink implements UpstreamSink {
  readonly events: string[] = [];
  heads: ResponseHead[] = [];
  body = "";
  onUpstreamReady(): void {
    this.events.push("ready");
  }
  onUpstreamHead(head: ResponseHead): void {
    this.heads.push(head);
    this.events.push(`head ${head.status}`);
  }
  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.body += buf.toString("latin1", start, end);
  }
  onUpstreamEnd(): void {
    this.events.push("end");
  }
  onUpstreamError(kind: UpstreamErrorKind): void {
    this.events.push(`error ${kind}`);
  }
  onUpstreamDrain(): void {}
  onUpstreamReadDone(): void {}
}

function open(owner = new Owner()): { owner: Owner; sink: Sink; conn: UpstreamConnection; socket: FakeSocket } {
  const sink = new Sink();
  const conn = new UpstreamConnection(owner, "10.1.0.5", 9080, sink);
  return { owner, sink, conn, socket: owner.dialer.socket() };
}

/** Connect and send one GET: the connection waits for its response. */
function connectedExchange(owner?: Owner): ReturnType<typeof open> {
  const o = open(owner);
  o.socket.establish();
  o.conn.beginRequest("GET");
  o.conn.write(Buffer.from("GET / HTTP/1.1\r\nhost: reviews:9080\r\n\r\n"));
  o.conn.endRequest();
  return o;
}

describe("UpstreamConnection: connect", () => {
  it("dials the endpoint with the pool's options", () => {
    const { socket } = open();
    assert.equal(socket.dialOptions?.host, "10.1.0.5");
    assert.equal(socket.dialOptions?.port, 9080);
    assert.equal(socket.dialOptions?.noDelay, true);
    assert.notEqual(socket.dialOptions?.onread, undefined);
  });

  it("connect timeout (Istio's default 10 s): connect-failure at 10 s, not before", async () => {
    const { owner, sink, socket } = open();
    assert.equal(owner.clock.pendingHolding(), 0, "unref'd, as the socket timer it replaces");
    owner.clock.advance(9_999);
    assert.deepEqual(sink.events, []);
    assert.equal(socket.destroyed, false);
    owner.clock.advance(1);
    assert.deepEqual(sink.events, ["error connect-failure"]);
    assert.equal(socket.destroyed, true);
    await flush();
    assert.deepEqual(owner.events, ["closed"], "the pool hears the close (and counts a connect failure)");
    assert.equal(owner.clock.pending(), 0);
  });

  it("a connection that comes up in time cancels its connect timer", () => {
    const { owner, sink, socket } = open();
    owner.clock.advance(5_000);
    socket.establish();
    assert.deepEqual(sink.events, ["ready"]);
    assert.deepEqual(owner.events, ["connected"]);
    assert.equal(owner.clock.pending(), 0);
    owner.clock.advance(60_000);
    assert.equal(socket.destroyed, false);
  });

  it("TLS origination waits for secureConnect, not connect", () => {
    const owner = new Owner();
    Object.assign(owner, { tls: { mode: "SIMPLE", subjectAltNames: [], insecureSkipVerify: false } });
    const { sink, socket } = open(owner);
    socket.establish("connect");
    assert.deepEqual(sink.events, []);
    socket.establish("secureConnect");
    assert.deepEqual(sink.events, ["ready"]);
  });

  it("connectTimeoutMs 0 arms no timer", () => {
    const owner = new Owner();
    owner.connectTimeoutMs = 0;
    open(owner);
    assert.equal(owner.clock.pending(), 0);
  });

  it("a refused connection is a connect-failure", async () => {
    const { owner, sink, socket } = open();
    socket.fail("ECONNREFUSED");
    await flush();
    assert.deepEqual(sink.events, ["error connect-failure"]);
    assert.deepEqual(owner.events, ["closed"]);
    assert.equal(owner.clock.pending(), 0, "the connect timer went with the socket");
  });
});

describe("UpstreamConnection: responses", () => {
  it("content-length response: head, body, end; the connection goes back to the pool", () => {
    const { owner, sink, socket, conn } = connectedExchange();
    assert.match(socket.writtenText(), /^GET \/ HTTP\/1\.1\r\n/);
    socket.receive("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel");
    socket.receive("lo");
    assert.deepEqual(sink.events, ["ready", "head 200", "end"]);
    assert.equal(sink.body, "hello");
    assert.deepEqual(owner.events, ["connected", "released reusable=true"]);
    assert.equal(conn.isIdle, true);
    assert.equal(conn.served, 1);
  });

  it("chunked body split across reads, and a 100 Continue before the final head", () => {
    const { sink, socket, conn } = connectedExchange();
    socket.receive("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nab");
    socket.receive("c\r\n0\r\n\r\n");
    assert.deepEqual(sink.events, ["ready", "head 100", "head 200", "end"]);
    assert.equal(sink.body, "3\r\nabc\r\n0\r\n\r\n", "chunked framing passes through");
    assert.equal(conn.isIdle, true);
  });

  it("a head split across reads", () => {
    const { sink, socket } = connectedExchange();
    socket.receive("HTTP/1.1 204 No Co");
    assert.deepEqual(sink.events, ["ready"]);
    socket.receive("ntent\r\n\r\n");
    assert.deepEqual(sink.events, ["ready", "head 204", "end"]);
  });

  it("Connection: close in the response: not reusable, closed", async () => {
    const { owner, socket } = connectedExchange();
    socket.receive("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    assert.deepEqual(owner.events, ["connected", "released reusable=false"]);
    assert.equal(socket.destroyed, true);
    await flush();
    assert.deepEqual(owner.events, ["connected", "released reusable=false", "closed"]);
  });

  it("a body delimited by close ends at the upstream's FIN", async () => {
    const { owner, sink, socket } = connectedExchange();
    socket.receive("HTTP/1.1 200 OK\r\n\r\npartial");
    socket.receiveEnd();
    await flush();
    assert.deepEqual(sink.events, ["ready", "head 200", "end"]);
    assert.equal(sink.body, "partial");
    assert.deepEqual(owner.events.slice(0, 2), ["connected", "released reusable=false"]);
  });

  it("reset before the response head: reset-before-response", async () => {
    const { sink, socket } = connectedExchange();
    socket.fail();
    await flush();
    assert.deepEqual(sink.events, ["ready", "error reset-before-response"]);
  });

  it("reset in the middle of the body: reset-during-response", async () => {
    const { sink, socket } = connectedExchange();
    socket.receive("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    socket.fail();
    await flush();
    assert.deepEqual(sink.events, ["ready", "head 200", "error reset-during-response"]);
  });

  it("bytes that are not HTTP: protocol-error, connection closed", () => {
    const { sink, socket } = connectedExchange();
    socket.receive("SSH-2.0-OpenSSH_9.6\r\n\r\n");
    assert.deepEqual(sink.events, ["ready", "error protocol-error"]);
    assert.equal(socket.destroyed, true);
  });

  it("bytes on an idle connection: never reused", () => {
    const { socket, conn } = connectedExchange();
    socket.receive("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert.equal(conn.isIdle, true);
    socket.receive("HTTP/1.1 200 OK\r\n\r\n");
    assert.equal(socket.destroyed, true);
  });

  it("maxRequestsPerConnection 1 (keep-alive off): closed after one exchange", () => {
    const owner = new Owner();
    owner.maxRequestsPerConnection = 1;
    const { socket } = connectedExchange(owner);
    socket.receive("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert.deepEqual(owner.events, ["connected", "released reusable=false"]);
    assert.equal(socket.destroyed, true);
  });

  it("abort(): no more sink events, socket closed", async () => {
    const { sink, socket, conn } = connectedExchange();
    conn.abort();
    await flush();
    assert.equal(socket.destroyed, true);
    assert.deepEqual(sink.events, ["ready"]);
  });
});

describe("UpstreamConnection: max connection duration", () => {
  it("an idle connection closes when maxConnectionDuration passes", async () => {
    const owner = new Owner();
    owner.maxConnectionDurationMs = 30_000;
    const { socket, conn } = connectedExchange(owner);
    socket.receive("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert.equal(conn.isIdle, true);
    owner.clock.advance(29_999);
    assert.equal(socket.destroyed, false);
    owner.clock.advance(1);
    assert.equal(socket.destroyed, true);
    await flush();
    assert.equal(owner.events.at(-1), "closed");
  });

  it("a busy connection finishes its exchange first, then closes (drain, not reset)", () => {
    const owner = new Owner();
    owner.maxConnectionDurationMs = 30_000;
    const { sink, socket } = connectedExchange(owner);
    owner.clock.advance(30_000);
    assert.equal(socket.destroyed, false, "the response in flight is not cut");
    socket.receive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    assert.deepEqual(sink.events, ["ready", "head 200", "end"]);
    assert.deepEqual(owner.events, ["connected", "released reusable=false"]);
    assert.equal(socket.destroyed, true);
  });

  it("the duration counts from the connect, and the timer goes with the socket", async () => {
    const owner = new Owner();
    owner.maxConnectionDurationMs = 30_000;
    const { socket } = open(owner);
    owner.clock.advance(2_000);
    socket.establish();
    assert.deepEqual(owner.clock.pendingDelays(), [30_000]);
    assert.equal(owner.clock.pendingHolding(), 0, "unref'd");
    socket.fail();
    await flush();
    assert.equal(owner.clock.pending(), 0);
  });
});
