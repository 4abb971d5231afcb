// The encoder's choices, octet by octet, and its size updates; decoding what it writes is
// round-trip.test.ts's job.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HpackEncoder } from "./encoder.ts";
import { APPENDIX_C } from "./rfc7541-vectors.ts";

function encode(e: HpackEncoder, fields: string[]): string {
  const out = Buffer.alloc(4096);
  const n = e.encode(fields, out, 0);
  assert.ok(n >= 0);
  return out.toString("hex", 0, n);
}

describe("HpackEncoder", () => {
  for (const series of APPENDIX_C.filter((s) => s.name === "C.3" || s.name === "C.4")) {
    it(`${series.name}: the RFC's request blocks, octet for octet`, () => {
      const e = new HpackEncoder(4096, series.huffman);
      for (const step of series.steps) {
        assert.equal(encode(e, step.fields.flat()), step.hex);
        assert.equal(e.tableSize, step.size);
      }
    });
  }

  it("exact static matches are one octet; a repeated response field becomes an index into the dynamic table", () => {
    const e = new HpackEncoder();
    const fields = [":status", "200", "content-type", "text/plain", "server", "envoy"];
    // content-type (static name 31) and server (54) with incremental indexing
    assert.equal(encode(e, fields), "88" + "5f0a" + Buffer.from("text/plain").toString("hex") + "7605" + Buffer.from("envoy").toString("hex"));
    assert.equal(encode(e, fields), "88bfbe");
    assert.equal(e.tableLength, 2);
  });

  it("credentials are never-indexed literals and never enter the table", () => {
    const e = new HpackEncoder();
    const fields = ["set-cookie", "a=b", "authorization", "Bearer x", "cookie", "short=1"];
    const once = encode(e, fields);
    assert.equal(once.slice(0, 4), "1f28"); // 0001 1111, 55 − 15 = 40
    assert.equal(encode(e, fields), once);
    assert.equal(e.tableLength, 0);
  });

  it("per-message values (content-length, :path, location…) are literals without indexing", () => {
    const e = new HpackEncoder();
    assert.equal(encode(e, ["content-length", "12"]), "0f0d023132");
    assert.equal(e.tableLength, 0);
  });

  it("a new name goes literally, then by its dynamic index", () => {
    const e = new HpackEncoder();
    assert.equal(encode(e, ["x-a", "1"]), "4003782d610131");
    assert.equal(encode(e, ["x-a", "2"]), "7e0132"); // name index 62, value literal, indexed
    assert.equal(encode(e, ["x-a", "1"]), "bf"); // x-a: 1 is now 63
  });

  it("the peer's new table size is announced at the start of the next block, the smallest first (§4.2)", () => {
    const e = new HpackEncoder();
    encode(e, ["x-a", "1"]);
    e.setPeerMaxTableSize(0);
    e.setPeerMaxTableSize(100);
    assert.equal(encode(e, [":status", "200"]), "20" + "3f45" + "88");
    assert.equal(e.tableLength, 0);
    assert.equal(encode(e, [":status", "200"]), "88");
  });

  it("a SETTINGS_HEADER_TABLE_SIZE that leaves our table's size as it is needs no update", () => {
    const e = new HpackEncoder();
    e.setPeerMaxTableSize(4096);
    assert.equal(encode(e, [":status", "200"]), "88");
    e.setPeerMaxTableSize(65536); // we stay at our own 4096
    assert.equal(encode(e, [":status", "200"]), "88");
    e.setPeerMaxTableSize(0);
    e.setPeerMaxTableSize(4096); // down and back up between two blocks: both are announced
    assert.equal(encode(e, [":status", "200"]), "20" + "3fe11f" + "88");
  });

  it("our own maximum caps what the peer allows", () => {
    const e = new HpackEncoder(256);
    e.setPeerMaxTableSize(65536);
    assert.equal(encode(e, []), "");
    e.setPeerMaxTableSize(100);
    e.setPeerMaxTableSize(65536);
    assert.equal(encode(e, []), "3f45" + "3fe101"); // 100 = 31 + 69, then 256 = 31 + 225
  });

  it("returns -1 without touching its state when out is too small", () => {
    const e = new HpackEncoder();
    e.setPeerMaxTableSize(1000);
    const fields = ["x-a", "1", "content-type", "text/plain"];
    assert.equal(e.encode(fields, Buffer.alloc(10), 0), -1);
    assert.equal(e.tableLength, 0);
    const out = Buffer.alloc(100);
    const n = e.encode(fields, out, 3);
    assert.equal(out.toString("hex", 3, n).slice(0, 6), "3fc907"); // the size update still comes first
  });
});
