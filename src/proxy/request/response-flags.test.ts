import assert from "node:assert/strict";
import { it } from "node:test";
import { formatResponseFlags, RF_DC, RF_DI, RF_FI, RF_NR, RF_UF, RF_UO, RF_URX, RF_UT } from "./response-flags.ts";

it("renders no flag as -", () => {
  assert.equal(formatResponseFlags(0), "-");
});

it("renders flags in Envoy's order, comma-separated", () => {
  assert.equal(formatResponseFlags(RF_NR), "NR");
  assert.equal(formatResponseFlags(RF_URX | RF_UF), "UF,URX");
  assert.equal(formatResponseFlags(RF_FI | RF_DI), "DI,FI");
  assert.equal(formatResponseFlags(RF_UT | RF_DC), "UT,DC");
  assert.equal(formatResponseFlags(RF_UO), "UO");
});
