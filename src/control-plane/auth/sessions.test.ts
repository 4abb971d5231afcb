import assert from "node:assert/strict";
import { test } from "node:test";
import { cookieValue, DashboardSessions } from "./sessions.ts";

const admin = { kind: "admin" as const, name: "alice" };

test("a login code is good once, and only before it expires", () => {
  let now = 1_000_000;
  const s = new DashboardSessions({ now: () => now, loginTtlMs: 60_000, sessionTtlMs: 3_600_000 });
  const { code, expiresAt } = s.mintLoginCode(admin);
  assert.equal(expiresAt, 1_060_000);
  const id = s.redeem(code);
  assert.ok(id !== null);
  assert.deepEqual(s.verify(id), admin);
  assert.equal(s.redeem(code), null, "second use");
  const late = s.mintLoginCode(admin).code;
  now += 60_000;
  assert.equal(s.redeem(late), null, "expired at its deadline");
  assert.equal(s.redeem("made-up"), null);
});

test("a session ends at its deadline or when closed", () => {
  let now = 0;
  const s = new DashboardSessions({ now: () => now, sessionTtlMs: 1000 });
  const a = s.open(admin);
  const b = s.open(admin);
  assert.notEqual(a, b);
  now = 999;
  assert.deepEqual(s.verify(a), admin);
  s.close(b);
  assert.equal(s.verify(b), null);
  now = 1000;
  assert.equal(s.verify(a), null);
  assert.equal(s.verify(""), null);
});

test("cookieValue reads one cookie of a Cookie header", () => {
  assert.equal(cookieValue("a=1; amime_session=xyz; b=2", "amime_session"), "xyz");
  assert.equal(cookieValue("xamime_session=1", "amime_session"), undefined);
  assert.equal(cookieValue(undefined, "amime_session"), undefined);
});
