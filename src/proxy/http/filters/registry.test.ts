import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildChain, DEFAULT_CHAIN, httpFilter } from "./registry.ts";

describe("the HTTP filter registry", () => {
  it("the default chain is route lookup, then Istio's cors → fault → router", () => {
    assert.deepEqual(
      DEFAULT_CHAIN.map((s) => s.filter.name),
      ["route", "cors", "fault", "router"],
    );
  });

  it("names every registered filter", () => {
    for (const name of ["cors", "fault", "router"]) assert.equal(httpFilter(name)?.name, name);
    assert.equal(httpFilter("route"), undefined, "the route lookup is not configurable: it always runs first");
  });

  it("rejects an unknown filter by name, and a list that does not end with the router", () => {
    assert.throws(() => buildChain([{ name: "envoy.filters.http.lua" }, { name: "router" }]), /unknown HTTP filter "envoy.filters.http.lua"/);
    assert.throws(() => buildChain([{ name: "router" }, { name: "cors" }]), /must end with "router"/);
    assert.throws(() => buildChain([]), /must end with "router"/);
  });
});
