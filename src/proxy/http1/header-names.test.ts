import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TOKEN } from "./chars.ts";
import {
  H_CONNECTION,
  H_CONTENT_LENGTH,
  H_EXPECT,
  H_HOST,
  H_KEEP_ALIVE,
  H_OTHER,
  H_PROXY_CONNECTION,
  H_TE,
  H_TRAILER,
  H_TRANSFER_ENCODING,
  H_UPGRADE,
  identifyHeader,
} from "./header-names.ts";

const KNOWN: ReadonlyArray<readonly [string, number]> = [
  ["te", H_TE],
  ["host", H_HOST],
  ["expect", H_EXPECT],
  ["upgrade", H_UPGRADE],
  ["trailer", H_TRAILER],
  ["connection", H_CONNECTION],
  ["keep-alive", H_KEEP_ALIVE],
  ["content-length", H_CONTENT_LENGTH],
  ["proxy-connection", H_PROXY_CONNECTION],
  ["transfer-encoding", H_TRANSFER_ENCODING],
];

/** identifyHeader on `name` placed after other bytes, as the scanner calls it. */
const id = (name: string): number => identifyHeader(Buffer.from(`X: y\r\n${name}`, "latin1"), 6, 6 + name.length);

test("identifyHeader: the codec's names in any case", () => {
  for (const [name, expected] of KNOWN) {
    assert.equal(id(name), expected, name);
    assert.equal(id(name.toUpperCase()), expected, name.toUpperCase());
    assert.equal(id(name[0]!.toUpperCase() + name.slice(1)), expected, name);
  }
});

test("identifyHeader: names of the same length and first letter (or first byte modulo 32) are other headers", () => {
  // "4" and "T" share "t"'s low five bits; "k"-"c" and "u"-"t" are the lengths with two names.
  for (const name of ["4e", "tf", "ta", "hosts", "hostt", "4ost", "expecT2", "upgradE1", "trailef", "tpgrade", "uraile", "konnection", "ceep-alive", "content-lengtH0", "content-lengti", "proxy-connectioN", "transfer-encodinG", "transfer-encodings", "x"]) {
    const expected = KNOWN.find(([known]) => known === name.toLowerCase())?.[1] ?? H_OTHER;
    assert.equal(id(name), expected, name);
  }
});

test("property: identifyHeader names exactly the codec's names, for any token", () => {
  const tokenChar = fc.integer({ min: 0x21, max: 0x7e }).filter((c) => TOKEN[c] === 1).map((c) => String.fromCharCode(c));
  const names = fc.oneof(
    fc.array(tokenChar, { minLength: 1, maxLength: 20 }).map((cs) => cs.join("")),
    fc.constantFrom(...KNOWN.map(([n]) => n)).chain((n) => fc.nat(n.length - 1).map((i) => n.slice(0, i) + n[i]!.toUpperCase() + n.slice(i + 1))),
  );
  fc.assert(
    fc.property(names, (name) => {
      const expected = KNOWN.find(([known]) => known === name.toLowerCase())?.[1] ?? H_OTHER;
      assert.equal(id(name), expected);
    }),
  );
});
