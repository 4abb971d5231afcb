import { test } from "node:test";
import assert from "node:assert/strict";
import { stripV4Mapped } from "./source-ip.ts";

test("an IPv4-mapped IPv6 address is its IPv4 address; other addresses are unchanged", () => {
  const table: [string, string][] = [
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["10.1.2.3", "10.1.2.3"],
    ["::1", "::1"],
    ["2001:db8::ffff:1", "2001:db8::ffff:1"],
    ["", ""],
  ];
  for (const [ip, want] of table) assert.equal(stripV4Mapped(ip), want, ip);
});
