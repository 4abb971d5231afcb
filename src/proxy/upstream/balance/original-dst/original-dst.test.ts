import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_ORIGINAL_DST_HOSTS, OriginalDstBalancer } from "./original-dst.ts";

describe("OriginalDstBalancer (PASSTHROUGH)", () => {
  it("returns the original destination as the host, the same Host object each time", () => {
    const lb = new OriginalDstBalancer();
    const a = lb.pick({ originalDestination: { address: "93.184.216.34", port: 443 } })!;
    assert.equal(a.key, "93.184.216.34:443");
    assert.equal(a.address, "93.184.216.34");
    assert.equal(a.port, 443);
    assert.equal(lb.pick({ originalDestination: { address: "93.184.216.34", port: 443 } }), a);
    assert.notEqual(lb.pick({ originalDestination: { address: "93.184.216.34", port: 80 } }), a);
  });

  it("no original destination: null (engine answers 503 UH)", () => {
    assert.equal(new OriginalDstBalancer().pick(), null);
    assert.equal(new OriginalDstBalancer().pick({ hash: 5 }), null);
  });

  it("bounds its cache, keeping hosts with requests in flight", () => {
    const lb = new OriginalDstBalancer();
    const busy = lb.pick({ originalDestination: { address: "10.9.9.9", port: 1 } })!;
    busy.activeRequests = 1;
    for (let i = 0; i < MAX_ORIGINAL_DST_HOSTS + 50; i++) lb.pick({ originalDestination: { address: "10.0.0.1", port: 1000 + i } });
    assert.ok(lb.size <= MAX_ORIGINAL_DST_HOSTS);
    assert.equal(lb.pick({ originalDestination: { address: "10.9.9.9", port: 1 } }), busy);
  });
});
