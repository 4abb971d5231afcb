import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import fc from "fast-check";
import { parseClientHelloSni, serverNameMatches, type SniResult } from "./sni.ts";

const u16 = (n: number): number[] => [(n >> 8) & 255, n & 255];
const u24 = (n: number): number[] => [(n >> 16) & 255, (n >> 8) & 255, n & 255];

/** A minimal ClientHello with the given extensions (type → body), in `records` records. */
function hello(exts: [number, number[]][] | null, records = 1): Buffer {
  const body = [3, 3, ...new Array<number>(32).fill(7), 0, ...u16(2), 0x13, 0x01, 1, 0];
  if (exts !== null) {
    const e = exts.flatMap(([t, b]) => [...u16(t), ...u16(b.length), ...b]);
    body.push(...u16(e.length), ...e);
  }
  const hs = [1, ...u24(body.length), ...body];
  const out: number[] = [];
  const step = Math.ceil(hs.length / records);
  for (let i = 0; i < hs.length; i += step) {
    const frag = hs.slice(i, i + step);
    out.push(22, 3, 1, ...u16(frag.length), ...frag);
  }
  return Buffer.from(out);
}

function sniExt(...names: [number, string][]): [number, number[]] {
  const list = names.flatMap(([t, n]) => [t, ...u16(n.length), ...Buffer.from(n, "latin1")]);
  return [0, [...u16(list.length), ...list]];
}

const SNI = (name: string): SniResult => ({ kind: "sni", name });

const cases: [string, Buffer, SniResult][] = [
  ["plain SNI", hello([sniExt([0, "a.example"])]), SNI("a.example")],
  ["SNI after other extensions, upper case and a trailing dot", hello([[10, [0, 2, 0, 29]], [43, [2, 3, 4]], sniExt([0, "B.Example."])]), SNI("b.example")],
  ["hello split over three records", hello([[21, new Array<number>(300).fill(0)], sniExt([0, "split.example"])], 3), SNI("split.example")],
  ["a non host_name entry first", hello([sniExt([7, "x"], [0, "c.example"])]), SNI("c.example")],
  ["extensions without server_name", hello([[10, [0, 2, 0, 29]]]), { kind: "no-sni" }],
  ["no extensions block at all", hello(null), { kind: "no-sni" }],
  ["empty", Buffer.alloc(0), { kind: "more" }],
  ["record header only", hello([sniExt([0, "a.example"])]).subarray(0, 5), { kind: "more" }],
  ["truncated inside the SNI", hello([sniExt([0, "a.example"])]).subarray(0, 60), { kind: "more" }],
  ["truncated in the second record", hello([sniExt([0, "split.example"])], 2).subarray(0, 50), { kind: "more" }],
  ["HTTP/1.1 request", Buffer.from("GET / HTTP/1.1\r\n\r\n"), { kind: "not-tls" }],
  ["TLS alert record", Buffer.from([21, 3, 3, 0, 2, 2, 40]), { kind: "not-tls" }],
  ["SSLv2-style first byte", Buffer.from([0x80, 0x2e, 1, 3, 1]), { kind: "not-tls" }],
  ["handshake but not a ClientHello (ServerHello)", Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0]), { kind: "not-tls" }],
  ["zero-length record", Buffer.from([22, 3, 1, 0, 0]), { kind: "not-tls" }],
  ["session id longer than 32", (() => { const b = hello([sniExt([0, "a.example"])]); b[5 + 4 + 34] = 200; return b; })(), { kind: "not-tls" }],
  ["server_name list length lies", (() => { const b = hello([[0, [0, 50, 0, 0, 1, 97]]]); return b; })(), { kind: "not-tls" }],
  ["control character in the name", hello([sniExt([0, "a\nb"])]), { kind: "not-tls" }],
  ["empty host name", hello([sniExt([0, ""])]), { kind: "not-tls" }],
];

for (const [name, bytes, want] of cases) {
  test(`parseClientHelloSni: ${name}`, () => {
    assert.deepEqual(parseClientHelloSni(bytes), want);
  });
}

test("parseClientHelloSni: every strict prefix of a valid hello asks for more", () => {
  const b = hello([[10, [0, 2, 0, 29]], sniExt([0, "prefix.example"])], 2);
  for (let n = 1; n < b.length; n++) assert.deepEqual(parseClientHelloSni(b.subarray(0, n)), { kind: "more" }, `prefix ${n}`);
  assert.deepEqual(parseClientHelloSni(b), SNI("prefix.example"));
});

test("parseClientHelloSni: garbage never throws", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, tlsLike) => {
      const b = tlsLike ? Buffer.concat([Buffer.from([22, 3, 1]), bytes]) : Buffer.from(bytes);
      const r = parseClientHelloSni(b);
      assert.ok(["sni", "no-sni", "more", "not-tls"].includes(r.kind));
    }),
  );
});

test("parseClientHelloSni: the ClientHello of node:tls (OpenSSL) with servername", async () => {
  const got = await new Promise<Buffer>((resolve, reject) => {
    const srv = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (parseClientHelloSni(buf).kind !== "more") {
          s.destroy();
          srv.close();
          resolve(buf);
        }
      });
    });
    srv.listen(0, "127.0.0.1", () => {
      const c = tlsConnect({ host: "127.0.0.1", port: (srv.address() as AddressInfo).port, servername: "real.example.test" });
      c.on("error", () => {});
    });
    srv.on("error", reject);
  });
  assert.deepEqual(parseClientHelloSni(got), SNI("real.example.test"));
});

test("serverNameMatches: exact, *.suffix, *", () => {
  assert.equal(serverNameMatches("a.example", "a.example"), true);
  assert.equal(serverNameMatches("A.Example", "a.example"), true);
  assert.equal(serverNameMatches("a.example", "b.example"), false);
  assert.equal(serverNameMatches("*.example", "x.y.example"), true);
  assert.equal(serverNameMatches("*.example", "example"), false);
  assert.equal(serverNameMatches("*.example", "badexample"), false);
  assert.equal(serverNameMatches("*", undefined), true);
  assert.equal(serverNameMatches("a.example", undefined), false);
});
