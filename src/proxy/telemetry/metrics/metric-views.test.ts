import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ATTR, type CelAttributes } from "../../../model/cel/attributes.ts";
import { MetricViews } from "./metric-views.ts";

const NAMES = ["reporter", "response_code", "response_flags"];
const attrs = (headers: Record<string, string> = {}): CelAttributes => ({ get: (id) => (id === ATTR.requestMethod ? "GET" : undefined), header: (n) => headers[n] });

describe("MetricViews", () => {
  it("no overrides: every metric on, Istio's labels, nothing per request", () => {
    const v = new MetricViews(undefined, NAMES, NAMES);
    assert.equal(v.none, true);
    assert.equal(v.labels("outbound", false, ["source", "200", "-"], attrs()), null);
    assert.equal(v.keysPerRequest("outbound"), false);
  });

  it("applies overrides in order per side: later disabled wins, tags upsert/remove, new labels sorted after Istio's", () => {
    const v = new MetricViews(
      [
        { metric: "ALL_METRICS", mode: "SERVER", disabled: true },
        { metric: "REQUEST_COUNT", mode: "SERVER", disabled: false },
        { metric: "REQUEST_COUNT", tags: { z_user: { value: "request.headers['x-user'] || 'anon'" }, a_method: { value: "request.method" }, response_flags: { remove: true }, response_code: { value: "'xx'" } } },
        { metric: "REQUEST_COUNT", mode: "CLIENT", tags: { response_flags: { value: "'kept'" } } },
      ],
      NAMES,
      NAMES,
    );
    assert.equal(v.on("inbound", false), true, "REQUEST_COUNT turned back on at the server");
    assert.equal(v.on("inbound", true), false, "TCP metrics stay off at the server");
    const server = v.labels("inbound", false, ["destination", "200", "-"], attrs({ "x-user": "jason" }));
    assert.deepEqual(server, ['reporter="destination",response_code="xx",a_method="GET",z_user="jason"', null, null, null]);
    const client = v.labels("outbound", false, ["source", "503", "UF"], attrs());
    assert.deepEqual(client?.[0], 'reporter="source",response_code="xx",response_flags="kept",a_method="GET",z_user="anon"');
    assert.equal(client?.[1], 'reporter="source",response_code="503",response_flags="UF"');
    assert.equal(v.keysPerRequest("outbound"), true);
    assert.equal(v.requestKey("outbound", attrs({ "x-user": "a" })), v.requestKey("outbound", attrs({ "x-user": "a" })));
    assert.notEqual(v.requestKey("outbound", attrs({ "x-user": "a" })), v.requestKey("outbound", attrs({ "x-user": "b" })));
  });
});
