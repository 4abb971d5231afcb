import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TcpPortAssignments } from "./tcp-port-assignments.ts";

describe("TcpPortAssignments", () => {
  it("keeps a node's assignments across translations, warns once when the pool is used up, starts over for a new pool or after forget", () => {
    const a = new TcpPortAssignments();
    const pool = [20001, 20002];
    assert.deepEqual(a.current("n", pool), {});
    assert.equal(a.record("n", pool, { "redis:6379": 20001 }), null);
    assert.deepEqual(a.current("n", pool), { "redis:6379": 20001 });
    assert.match(a.record("n", pool, { "db:5432": 20002 }) ?? "", /n: all 2 local ports .* are in use/);
    assert.equal(a.record("n", pool, {}), null, "warned once");
    assert.deepEqual(a.current("n", pool), { "redis:6379": 20001, "db:5432": 20002 });
    assert.deepEqual(a.current("n", [30001]), {}, "a new pool starts over");
    a.forget("n");
    assert.equal(a.record("n", pool, { x: 1 }), null, "nothing kept for a node it forgot");
    assert.deepEqual(a.current("n", pool), {});
  });
});
