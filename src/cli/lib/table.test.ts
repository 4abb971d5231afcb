import assert from "node:assert/strict";
import { test } from "node:test";
import { match } from "../../proxy/router/fixtures.ts";
import { formatChanges } from "./change.ts";
import { matchSummary } from "./proxy-config-tables.ts";
import { lookupKind, parseResourceId, qualifiedKind } from "./resource-kinds.ts";
import { formatTable } from "../../core/text-table.ts";

test("formatTable pads columns by three spaces and leaves no trailing blanks", () => {
  assert.equal(formatTable(["NAME", "HOSTS"], [["reviews", "a"], ["x", ""]]), "NAME      HOSTS\nreviews   a\nx\n");
});

test("kinds by plural, singular, short, Kind and qualified names; kubectl change lines", () => {
  for (const w of ["virtualservices", "VirtualService", "vs", "vs.networking.istio.io", "virtualservices.networking.istio.io"]) assert.equal(lookupKind(w)?.kind, "VirtualService", w);
  assert.equal(lookupKind("svc")?.kind, "Service");
  assert.equal(lookupKind("svc.networking.istio.io"), undefined);
  assert.equal(qualifiedKind("Service"), "service");
  assert.deepEqual(parseResourceId("PeerAuthentication shop/strict"), { kind: "PeerAuthentication", namespace: "shop", name: "strict" });
  assert.equal(formatChanges({ applied: true, version: "v3", diagnostics: [], changes: [
    { resource: "DestinationRule default/reviews", action: "created" },
    { resource: "Service default/ratings", action: "unchanged" },
  ] }), "destinationrule.networking.istio.io/reviews created\nservice/ratings unchanged\n");
});

test("matchSummary puts a route's conditions on one line", () => {
  assert.equal(matchSummary(match()), "/*");
  assert.equal(matchSummary(match({
    uri: { prefix: "/api" }, method: { exact: "GET" }, port: 9080,
    headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }, { name: "x-canary", invert: true }],
    queryParams: [{ name: "debug", match: { regex: "1|true" } }],
  })), "/api* method=GET port=9080 end-user=jason !x-canary ?debug=~1|true");
});
