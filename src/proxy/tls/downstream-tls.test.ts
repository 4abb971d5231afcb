import assert from "node:assert/strict";
import { test } from "node:test";
import { pickBySni } from "./downstream-tls.ts";

test("pickBySni: exact host, then the longest wildcard, then *, else the first entry", () => {
  const entries = [
    { id: "first", hosts: ["a.example.com"] },
    { id: "wild", hosts: ["*.example.com"] },
    { id: "deeper", hosts: ["*.api.example.com"] },
    { id: "any", hosts: ["*"] },
  ];
  const table: [string | undefined, string][] = [
    ["a.example.com", "first"], ["A.Example.com", "first"], ["b.example.com", "wild"], ["v1.api.example.com", "deeper"],
    ["other.org", "any"], [undefined, "first"], ["", "first"],
  ];
  for (const [sni, want] of table) assert.equal(pickBySni(entries, sni)?.id, want, String(sni));
  assert.equal(pickBySni([{ id: "only", hosts: ["x.test"] }], "nomatch.test")?.id, "only");
});
