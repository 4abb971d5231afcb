import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reasonPhrase } from "./reason-phrase.ts";

describe("reasonPhrase (Envoy's table)", () => {
  it("names the codes as Envoy's CodeUtility::toString does", () => {
    const table: [number, string][] = [
      [200, "OK"],
      [204, "No Content"],
      [304, "Not Modified"],
      [400, "Bad Request"],
      [403, "Forbidden"],
      [404, "Not Found"],
      [413, "Payload Too Large"],
      [429, "Too Many Requests"],
      [431, "Request Header Fields Too Large"],
      [503, "Service Unavailable"],
      [504, "Gateway Timeout"],
    ];
    for (const [code, phrase] of table) assert.equal(reasonPhrase(code), phrase, String(code));
  });

  it("keeps RFC 9110's 1xx phrases and says Unknown where Envoy does (418, 425, 451, 599)", () => {
    assert.equal(reasonPhrase(101), "Switching Protocols");
    assert.equal(reasonPhrase(103), "Early Hints");
    for (const code of [418, 425, 451, 599]) assert.equal(reasonPhrase(code), "Unknown", String(code));
  });
});
