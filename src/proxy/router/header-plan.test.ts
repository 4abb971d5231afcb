import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HeaderEdits } from "../../model/proxy-config.ts";
import { HeaderPlan, applyHeaderEdits, expandHeaderValue, hasHeaderEdits, requestHeaderPlan, responseHeaderPlan } from "./header-plan.ts";
import { forward, route } from "./fixtures.ts";

const ctx = { hostname: "reviews-v1-0", sourceIp: "10.0.0.9" };

function edits(partial: Partial<HeaderEdits>): HeaderEdits {
  return { set: {}, add: {}, remove: [], ...partial };
}

/** What the proxy writes: original headers it keeps, then the added ones. */
function forwarded(original: [string, string][], plan: HeaderPlan): [string, string][] {
  return [...original.filter(([n]) => plan.keeps(n)), ...plan.added];
}

describe("HeaderPlan", () => {
  const original: [string, string][] = [["x-a", "1"], ["x-b", "2"], ["x-b", "3"], ["host", "svc"]];

  it("set replaces, add appends, remove drops", () => {
    const plan = new HeaderPlan();
    applyHeaderEdits(plan, edits({ set: { "X-A": "new" }, add: { "x-b": "4", "x-c": "5" }, remove: ["x-d"] }), ctx);
    assert.deepEqual(forwarded(original, plan), [["x-b", "2"], ["x-b", "3"], ["host", "svc"], ["x-a", "new"], ["x-b", "4"], ["x-c", "5"]]);
    const p2 = new HeaderPlan();
    applyHeaderEdits(p2, edits({ remove: ["X-B"] }), ctx);
    assert.deepEqual(forwarded(original, p2), [["x-a", "1"], ["host", "svc"]]);
  });

  it("within one level, remove happens before set/add (Envoy)", () => {
    const plan = new HeaderPlan();
    applyHeaderEdits(plan, edits({ set: { "x-a": "kept" }, remove: ["x-a"] }), ctx);
    assert.deepEqual(plan.added, [["x-a", "kept"]]);
    assert.equal(plan.keeps("x-a"), false);
  });

  it(":authority is planned as host", () => {
    const plan = new HeaderPlan();
    applyHeaderEdits(plan, edits({ set: { ":authority": "other:80" } }), ctx);
    assert.deepEqual(forwarded(original, plan), [["x-a", "1"], ["x-b", "2"], ["x-b", "3"], ["host", "other:80"]]);
  });

  it("destination edits first, then route edits: the route's set wins, its remove drops the destination's add", () => {
    const r = route("r", {}, forward([]));
    r.headers = { request: edits({ set: { "x-who": "route" }, remove: ["x-dest"] }), response: edits({ add: { "x-r": "1" } }) };
    const dest = { cluster: "c", weight: 1, headers: { request: edits({ set: { "x-who": "dest" }, add: { "x-dest": "1", "x-keep": "1" } }), response: edits({ set: { "x-d": "1" } }) } };
    const plan = requestHeaderPlan(r, dest, ctx);
    assert.deepEqual(plan.added, [["x-keep", "1"], ["x-who", "route"]]);
    assert.deepEqual(responseHeaderPlan(r, dest, ctx).added, [["x-d", "1"], ["x-r", "1"]]);
    assert.equal(requestHeaderPlan(route("bare", {}), undefined, ctx).empty, true);
  });

  it("hasHeaderEdits", () => {
    assert.equal(hasHeaderEdits(undefined, "request"), false);
    assert.equal(hasHeaderEdits({ request: edits({}) }, "request"), false);
    assert.equal(hasHeaderEdits({ request: edits({ add: { a: "b" } }) }, "request"), true);
    assert.equal(hasHeaderEdits({ request: edits({ add: { a: "b" } }) }, "response"), false);
  });
});

describe("expandHeaderValue", () => {
  const cases: [string, string][] = [
    ["plain", "plain"],
    ["100%%", "100%"],
    ["%HOSTNAME%", "reviews-v1-0"],
    ["from %DOWNSTREAM_REMOTE_ADDRESS%", "from 10.0.0.9"],
    ["%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.0.0.9"],
    ["%%HOSTNAME%%", "%HOSTNAME%"],
    ["%UNKNOWN_VAR%", "%UNKNOWN_VAR%"],
  ];
  for (const [input, out] of cases) it(`${input} → ${out}`, () => assert.equal(expandHeaderValue(input, ctx), out));
});
