// Micro benchmark of the HPACK codec (src/proxy/http2/hpack/; not part of the test suite):
//   node_modules/.bin/node bench/hpack.ts
// Prints ns per header block: decoding real request blocks (captured from curl 7.88.1 and h2load,
// both nghttp2 1.52.0, for GET http://127.0.0.1:PORT/productpage) and encoding a typical response.
// Compare runs on the same machine only (this VM varies up to 2×).
import { HpackDecoder, HpackEncoder } from "../src/proxy/http2/hpack/index.ts";
import { measure } from "./lib/micro.ts";

const hex = (s: string): Buffer => Buffer.from(s, "hex");
/** curl's first request on a connection: Huffman :path, :authority, user-agent, accept. */
const CURL = hex("82048962bb0f25a44d6398bf86418b089d5c0b8170dc69c034df7a8825b650c3abbcf2e153032a2f2a");
/** h2load's first request (indexes :authority and user-agent) and every later one (all indexed but :path). */
const H2LOAD_FIRST = hex("048962bb0f25a44d6398bf86418b089d5c0b8170dc65c7dc77827a8f9c541c722954d3a5358980aed89707");
const H2LOAD_NEXT = hex("048962bb0f25a44d6398bf86bf82be");
const RESPONSE = [
  ":status", "200",
  "content-type", "text/html; charset=utf-8",
  "content-length", "5183",
  "date", "Sun, 06 Dec 2026 21:40:00 GMT",
  "server", "envoy",
  "x-envoy-upstream-service-time", "3",
];

const N = 1_000_000;
const block = (name: string, iterations: number, fn: () => unknown): void => measure(name, iterations, fn, "block");
const out: string[] = [];
block(`decode curl's first block (${CURL.length} B, fresh decoder)`, N / 4, () => {
  out.length = 0;
  new HpackDecoder().decode(CURL, 0, CURL.length, out);
  return out;
});
block(`decode h2load's first block (${H2LOAD_FIRST.length} B, fresh decoder)`, N / 4, () => {
  out.length = 0;
  new HpackDecoder().decode(H2LOAD_FIRST, 0, H2LOAD_FIRST.length, out);
  return out;
});
const steady = new HpackDecoder();
steady.decode(H2LOAD_FIRST, 0, H2LOAD_FIRST.length, []);
block(`decode h2load's later blocks (${H2LOAD_NEXT.length} B, indexed but :path)`, N, () => {
  out.length = 0;
  steady.decode(H2LOAD_NEXT, 0, H2LOAD_NEXT.length, out);
  return out;
});
const enc = new HpackEncoder();
const buf = Buffer.alloc(1024);
block("encode a 6-field response (steady state, plain literals)", N, () => enc.encode(RESPONSE, buf, 0));
const huff = new HpackEncoder(4096, true);
block("encode a 6-field response (steady state, Huffman)", N, () => huff.encode(RESPONSE, buf, 0));
// As the proxy encodes a response: its fields are strings made anew from each upstream response
// (parsed out of the bytes), not the same constant strings every time.
const wire = Buffer.from(RESPONSE.join("\n"), "latin1");
const cuts: number[] = [];
for (let i = 0, at = 0; i < RESPONSE.length; i++) {
  cuts.push(at, at + (RESPONSE[i] as string).length);
  at += (RESPONSE[i] as string).length + 1;
}
const fresh: string[] = [];
const fromWire = (): string[] => {
  fresh.length = 0;
  for (let i = 0; i < cuts.length; i += 2) fresh.push(wire.toString("latin1", cuts[i], cuts[i + 1]));
  return fresh;
};
block("make the 6 fields' strings anew (the cost below without the encoding)", N, fromWire);
const enc2 = new HpackEncoder();
block("encode a 6-field response made anew from bytes (steady state, plain literals)", N, () => enc2.encode(fromWire(), buf, 0));
