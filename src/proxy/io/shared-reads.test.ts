// Shared-buffer reads on real sockets (loopback, port 0): plain TCP and TLS (a tls.Server fed
// accepted connections, as the mesh TLS terminator does), bytes already buffered, pause/resume, end.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { describe, it } from "node:test";
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from "node:tls";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readIntoShared, sharedTlsReadsAvailable } from "./shared-reads.ts";

function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "shared-reads-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
  return { key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")) };
}

/** Collects what the callback saw, copied out of the shared buffer. */
class Reader {
  readonly buffer = Buffer.alloc(64 * 1024);
  text = "";
  reads = 0;
  /** Resolves when `text` includes the string. */
  until(s: string): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => (this.text.includes(s) ? resolve() : void setImmediate(check));
      check();
    });
  }
  readonly onRead = (n: number): boolean => {
    this.reads++;
    this.text += this.buffer.toString("latin1", 0, n);
    return true;
  };
}

async function listening(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

describe("readIntoShared", () => {
  it("plain TCP: a new socket on the same connection; bytes already buffered come back as `early`", async () => {
    const r = new Reader();
    let moved: Socket | null = null;
    let early = "";
    const server = createServer({ pauseOnConnect: true }, (s) => {
      s.unshift(Buffer.from("peeked "));
      const got = readIntoShared(s, r.buffer, r.onRead);
      assert.ok(got !== null);
      assert.notEqual(got.socket, s);
      moved = got.socket;
      early = got.early?.toString() ?? "";
      moved.write("hello");
    });
    const port = await listening(server);
    const c = connect(port, "127.0.0.1");
    const [reply] = (await once(c, "data")) as [Buffer];
    assert.equal(reply.toString(), "hello");
    assert.equal(early, "peeked ");
    c.write("after");
    await r.until("after");
    assert.equal(r.text, "after");
    c.destroy();
    (moved as Socket | null)?.destroy();
    server.close();
  });

  it("TLS: the same TLSSocket reads decrypted bytes into the buffer; pause stops the reads, resume restarts them; 'end' still comes", { skip: !sharedTlsReadsAvailable }, async () => {
    const { key, cert } = selfSigned();
    const r = new Reader();
    let secure: TLSSocket | null = null;
    const ended = { value: false };
    const tlsServer = createTlsServer({ key, cert }, (t) => {
      const got = readIntoShared(t, r.buffer, r.onRead);
      assert.ok(got !== null);
      assert.equal(got.socket, t);
      if (got.early !== null) r.text += got.early.toString("latin1");
      t.on("end", () => (ended.value = true));
      secure = t;
    });
    const server = createServer((s) => tlsServer.emit("connection", s));
    const port = await listening(server);
    const c = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    await once(c, "secureConnect");
    // Sent right after the handshake: it may reach the server with its Finished (then: `early`).
    c.write("first ");
    await r.until("first ");
    const t = secure as TLSSocket | null;
    assert.ok(t !== null);
    t.pause();
    const before = r.reads;
    c.write("while-paused ");
    // The client's bytes reached the server's kernel buffer: a round trip on the same connection.
    const pong = once(c, "data");
    t.write("pong");
    await pong;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(r.reads, before, "no read callback while paused");
    t.resume();
    await r.until("while-paused ");
    c.end();
    await once(t, "end");
    assert.equal(ended.value, true);
    assert.equal(r.text, "first while-paused ");
    t.destroy();
    server.close();
  });

  it("TLS: a socket that already streams ('data' listener) is left as it is", { skip: !sharedTlsReadsAvailable }, async () => {
    const { key, cert } = selfSigned();
    const r = new Reader();
    let result: unknown = "unset";
    const tlsServer = createTlsServer({ key, cert }, (t) => {
      t.on("data", () => {});
      result = readIntoShared(t, r.buffer, r.onRead);
      t.destroy();
    });
    const server = createServer((s) => tlsServer.emit("connection", s));
    const port = await listening(server);
    const c = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    c.on("error", () => {});
    await once(c, "close");
    assert.equal(result, null);
    server.close();
  });
});
