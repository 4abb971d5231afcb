import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openPushStream, type PushStream } from "./push-stream.ts";

interface Seen {
  opened: number;
  lines: string[];
  lost: { why: string; refused?: { status: number; body: string } }[];
}

/** Open a stream and resolve with what it saw once it is lost. */
function watch(url: URL, ca?: string, headers: Record<string, string> = {}, started?: (s: PushStream, seen: Seen) => void): Promise<Seen> {
  return new Promise((resolve) => {
    const seen: Seen = { opened: 0, lines: [], lost: [] };
    const s = openPushStream(url, headers, ca, {
      onOpen: () => seen.opened++,
      onBytes: () => {},
      onLine: (l) => {
        seen.lines.push(l);
        if (seen.lines.length === 1) started?.(s, seen);
      },
      onLost: (why, refused) => {
        seen.lost.push({ why, ...(refused !== undefined ? { refused } : {}) });
        setImmediate(() => resolve(seen));
      },
    });
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  after(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** Writes its pieces one at a time, each after the client had time to read the one before. */
function pieces(res: ServerResponse, parts: (string | Buffer)[]): void {
  const next = (): void => {
    const p = parts.shift();
    if (p === undefined) return void res.end();
    res.write(p, () => setTimeout(next, 5));
  };
  next();
}

describe("openPushStream", () => {
  it("sends the request line and headers, and cuts a chunked body into lines whatever its pieces (UTF-8 split across them)", async () => {
    let asked: IncomingMessage | undefined;
    const eAcute = Buffer.from("é");
    const port = await listen(
      createHttpServer((req, res) => {
        asked = req;
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        pieces(res, ["a\nb", Buffer.concat([Buffer.from("x"), eAcute.subarray(0, 1)]), Buffer.concat([eAcute.subarray(1), Buffer.from("\n\n{\"k\":")]), "1}\n"]);
      }),
    );
    const seen = await watch(new URL(`http://127.0.0.1:${port}/xds/v1/stream?node=a%7Eb&delta=1`), undefined, { authorization: "Bearer t" });
    assert.equal(asked?.url, "/xds/v1/stream?node=a%7Eb&delta=1");
    assert.equal(asked?.headers.authorization, "Bearer t");
    assert.equal(asked?.headers.host, `127.0.0.1:${port}`);
    assert.equal(seen.opened, 1);
    assert.deepEqual(seen.lines, ["a", "bxé", "", '{"k":1}']);
    assert.deepEqual(seen.lost, [{ why: "closed by the control plane" }]);
  });

  it("a refusal is not opened: its status and the start of its body are given when it ends", async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(403, { "content-type": "text/plain" }).end("not your node\n")));
    const seen = await watch(new URL(`http://127.0.0.1:${port}/s`));
    assert.equal(seen.opened, 0);
    assert.deepEqual(seen.lines, []);
    assert.deepEqual(seen.lost, [{ why: "HTTP 403", refused: { status: 403, body: "not your node\n" } }]);
  });

  it("destroy(err) ends it once, with err's message", async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(200).write("first\n")));
    const seen = await watch(new URL(`http://127.0.0.1:${port}/s`), undefined, {}, (s) => s.destroy(new Error("idle")));
    assert.deepEqual(seen.lines, ["first"]);
    assert.deepEqual(seen.lost, [{ why: "idle" }]);
  });

  it("over TLS: verified against the given roots; another root fails the handshake", async () => {
    const dir = mkdtempSync(join(tmpdir(), "push-stream-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const cert = (name: string): { key: string; cert: string } => {
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${name}`, "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.pem`)], { stdio: "ignore" });
      return { key: readFileSync(join(dir, `${name}.key`), "utf8"), cert: readFileSync(join(dir, `${name}.pem`), "utf8") };
    };
    const server = cert("server");
    const other = cert("other");
    const body = `${"x".repeat(200_000)}\nend\n`;
    const port = await listen(createHttpsServer(server, (_req, res) => res.writeHead(200).end(body)));
    const url = new URL(`https://127.0.0.1:${port}/s`);
    const ok = await watch(url, server.cert);
    assert.equal(ok.opened, 1);
    assert.deepEqual(ok.lines.map((l) => l.length), [200_000, 3]);
    assert.deepEqual(ok.lost, [{ why: "closed by the control plane" }]);
    const bad = await watch(url, other.cert);
    assert.equal(bad.opened, 0);
    assert.equal(bad.lost.length, 1);
    assert.match(bad.lost[0]!.why, /certificate/);
  });
});
