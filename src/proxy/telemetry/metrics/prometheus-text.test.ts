import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { labelText, parseLabelText } from "./prometheus-text.ts";

describe("parseLabelText", () => {
  it("reads back what labelText wrote: commas, quotes, backslashes and newlines in values", () => {
    assert.deepEqual(parseLabelText('response_flags="UO,URX",q="a\\"b\\\\c\\nd",empty=""'), [["response_flags", "UO,URX"], ["q", 'a"b\\c\nd'], ["empty", ""]]);
    assert.deepEqual(parseLabelText(""), []);
  });

  it("is labelText's inverse for any values", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), fc.string()), { maxLength: 6 }), (pairs) => {
        assert.deepEqual(parseLabelText(labelText(pairs.map((p) => p[0]), pairs.map((p) => p[1]))), pairs);
      }),
    );
  });
});
