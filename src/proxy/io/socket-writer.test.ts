import assert from "node:assert/strict";
import { once } from "node:events";
import { setImmediate as turnEnd } from "node:timers/promises";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { SocketWriter, directWritesAvailable } from "./socket-writer.ts";

/** A connected pair on loopback: `client` (written through a SocketWriter) and the server side. */
async function pair(server: Server): Promise<{ client: Socket; peer: Socket }> {
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
  await once(client, "connect");
  const [peer] = await accepted;
  return { client, peer };
}

function collect(s: Socket): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  s.on("data", (c: Buffer) => chunks.push(c));
  return { bytes: () => Buffer.concat(chunks) };
}

describe("SocketWriter", () => {
  let server: Server;
  before(async () => {
    server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
  });
  after(() => server.close());

  it("is available on this Node (else the proxy silently takes the slower stream path)", () => {
    assert.equal(directWritesAvailable, true);
  });

  it("small writes go out at once, in order, and report nothing queued", async () => {
    const { client, peer } = await pair(server);
    const got = collect(peer);
    const w = new SocketWriter(client);
    let expected = "";
    for (let i = 0; i < 200; i++) {
      const line = `line ${i}\n`;
      expected += line;
      assert.equal(w.write(Buffer.from(line)), true);
      assert.equal(w.queued, false);
    }
    client.end();
    await once(peer, "end");
    assert.equal(got.bytes().toString(), expected);
  });

  it("a write the kernel cannot take at once returns false, keeps its bytes, stays in order with later writes, then 'drain'", async () => {
    const { client, peer } = await pair(server);
    peer.pause();
    const w = new SocketWriter(client);
    // Fill the socket buffers until a write has to wait.
    const big = Buffer.alloc(1 << 20);
    const parts: Buffer[] = [];
    let n = 0;
    let ok = true;
    while (ok && n < 256) {
      const b = Buffer.from(big.fill(n % 251));
      parts.push(b);
      ok = w.write(b);
      n++;
    }
    assert.equal(ok, false, "the last write was queued");
    assert.equal(w.queued, true);
    // Later writes, direct and through the stream, queue behind it.
    const tail1 = Buffer.from("tail-direct");
    const tail2 = Buffer.from("tail-stream");
    w.write(tail1);
    client.write(tail2);
    parts.push(tail1, tail2);
    const drained = once(client, "drain");
    const got = collect(peer);
    peer.resume();
    await drained;
    client.end();
    await once(peer, "end");
    assert.equal(w.queued, false);
    assert.ok(got.bytes().equals(Buffer.concat(parts)), "every byte arrived, in write order");
  });

  it("a connection closed under a queued write: no throw, the socket is destroyed", async () => {
    const { client, peer } = await pair(server);
    peer.pause();
    const w = new SocketWriter(client);
    const big = Buffer.alloc(1 << 20, 7);
    let guard = 0;
    while (w.write(big) && guard++ < 256);
    assert.equal(w.queued, true);
    const closed = once(client, "close");
    client.on("error", () => {});
    peer.destroy();
    client.destroy();
    await closed;
    assert.equal(client.destroyed, true);
  });

  it("a socket still connecting takes the stream path (the bytes go out after connect)", async () => {
    const accepted = once(server, "connection") as Promise<[Socket]>;
    const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
    const w = new SocketWriter(client);
    assert.equal(client.connecting, true);
    w.write(Buffer.from("early"));
    const [peer] = await accepted;
    const got = collect(peer);
    client.end();
    await once(peer, "end");
    assert.equal(got.bytes().toString(), "early");
  });

  it("writeSoon holds owned messages until the turn ends, then writes each socket's in order", async () => {
    const a = await pair(server);
    const b = await pair(server);
    const gotA = collect(a.peer);
    const gotB = collect(b.peer);
    const wa = new SocketWriter(a.client);
    const wb = new SocketWriter(b.client);
    wa.writeSoon(Buffer.from("a1 "));
    wb.writeSoon(Buffer.from("b1 "));
    wa.writeSoon(Buffer.from("a2 ")); // a second message this turn (pipelining)
    assert.equal(wa.queued, true, "held, not written, during the turn");
    assert.equal(wb.queued, true);
    await turnEnd();
    assert.equal(wa.queued, false, "written when the turn ended");
    assert.equal(wb.queued, false);
    wa.writeSoon(Buffer.from("a3"));
    await turnEnd();
    a.client.end();
    b.client.end();
    await Promise.all([once(a.peer, "end"), once(b.peer, "end")]);
    assert.equal(gotA.bytes().toString(), "a1 a2 a3");
    assert.equal(gotB.bytes().toString(), "b1 ");
  });

  it("a write or flush() after writeSoon sends the held bytes first; a destroyed socket drops them", async () => {
    const { client, peer } = await pair(server);
    const got = collect(peer);
    const w = new SocketWriter(client);
    w.writeSoon(Buffer.from("head "));
    assert.equal(w.write(Buffer.from("body ")), true);
    assert.equal(w.queued, false);
    w.writeSoon(Buffer.from("last"));
    w.flush();
    assert.equal(w.queued, false, "flush() wrote it now");
    client.end();
    await once(peer, "end");
    assert.equal(got.bytes().toString(), "head body last");

    const gone = await pair(server);
    const goneGot = collect(gone.peer);
    const wg = new SocketWriter(gone.client);
    wg.writeSoon(Buffer.from("never"));
    gone.client.destroy();
    await turnEnd();
    await once(gone.peer, "close");
    assert.equal(goneGot.bytes().length, 0, "a destroyed socket's held bytes are dropped, without an error");
  });

  it("a TLS socket's writeSoon writes at once (its own write callbacks would slip to the next turn)", async () => {
    const { client, peer } = await pair(server);
    const got = collect(peer);
    (client as Socket & { encrypted?: boolean }).encrypted = true; // what a TLSSocket says; its writes take the stream path
    const w = new SocketWriter(client);
    w.writeSoon(Buffer.from("now"));
    assert.equal(w.queued, false, "not held");
    client.end();
    await once(peer, "end");
    assert.equal(got.bytes().toString(), "now");
  });
});

