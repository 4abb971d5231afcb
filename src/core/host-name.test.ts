import assert from "node:assert/strict";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import { hostName } from "./host-name.ts";

describe("hostName", () => {
  it("is the name os.hostname() (gethostname) gives", () => {
    assert.equal(hostName(), hostname());
  });
});
