import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { counterKey, counterTtl, secondsUntilReset } from "./window.ts";

describe("fixed windows (the reference service's key scheme)", () => {
  it("keys a counter by domain, entries and window start", () => {
    // 1_700_000_123 s: the minute window starts at 1_700_000_100, the hour at 1_699_999_200.
    assert.equal(counterKey("", "ratelimit", [{ key: "PATH", value: "/productpage" }], "MINUTE", 1_700_000_123), "ratelimit_PATH_/productpage_1700000100");
    assert.equal(counterKey("pfx_", "d", [{ key: "a", value: "1" }, { key: "b", value: "2" }], "HOUR", 1_700_000_123), "pfx_d_a_1_b_2_1699999200");
    assert.equal(counterKey("", "d", [{ key: "a", value: "" }], "SECOND", 1_700_000_123), "d_a__1700000123");
  });

  it("a new window gives a new key", () => {
    const k = (s: number) => counterKey("", "d", [{ key: "a", value: "b" }], "MINUTE", s);
    assert.equal(k(120), k(179));
    assert.notEqual(k(179), k(180));
  });

  it("the reset is the rest of the window", () => {
    assert.equal(secondsUntilReset("MINUTE", 1_700_000_123), 37);
    assert.equal(secondsUntilReset("MINUTE", 1_700_000_100), 60);
    assert.equal(secondsUntilReset("SECOND", 5), 1);
    assert.equal(secondsUntilReset("DAY", 86_400 + 3600), 82_800);
  });

  it("a counter lives one window", () => {
    assert.deepEqual(["SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"].map((u) => counterTtl(u as "SECOND")), [1, 60, 3600, 86400, 604800, 2592000, 31536000]);
  });
});
