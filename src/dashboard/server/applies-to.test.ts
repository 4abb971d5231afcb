import assert from "node:assert/strict";
import { test } from "node:test";
import type { Diagnostic } from "../../model/diagnostic.ts";
import { appliedConfig, configRows, fqdnOf, hostMatches, type ConfigItem } from "./applies-to.ts";

const item = (kind: string, name: string, spec: Record<string, unknown>, namespace = "default"): ConfigItem => ({ kind, namespace, name, body: { spec }, source: { file: `${name}.yaml`, line: 1 } });
const REVIEWS = "reviews.default.svc.cluster.local";

test("host names resolve from the config's namespace, as Istio's", () => {
  assert.equal(fqdnOf("reviews", "default"), REVIEWS);
  assert.equal(fqdnOf("reviews.default", "other"), REVIEWS);
  assert.equal(fqdnOf(REVIEWS, "other"), REVIEWS);
  assert.ok(hostMatches("*.default.svc.cluster.local", "x", REVIEWS));
  assert.ok(!hostMatches("reviews", "other", REVIEWS), "a short name means the config's own namespace");
  assert.ok(hostMatches("*", "x", REVIEWS));
});

test("VirtualServices, DestinationRules and selecting policies apply, with their messages", () => {
  const items = [
    item("VirtualService", "reviews", { hosts: ["reviews"], http: [] }),
    item("VirtualService", "other-ns", { hosts: ["reviews"] }, "other"),
    item("VirtualService", "bookinfo", { hosts: ["*"], gateways: ["bookinfo-gateway"], http: [{ route: [{ destination: { host: "productpage" } }] }] }),
    item("VirtualService", "edge", { hosts: ["*"], gateways: ["bookinfo-gateway"], http: [{ route: [{ destination: { host: "reviews" } }] }] }),
    item("DestinationRule", "reviews", { host: "reviews.default.svc.cluster.local" }),
    item("AuthorizationPolicy", "reviews-only", { selector: { matchLabels: { app: "reviews" } } }),
    item("AuthorizationPolicy", "ratings-only", { selector: { matchLabels: { app: "ratings" } } }),
    item("PeerAuthentication", "ns-wide", {}),
    item("PeerAuthentication", "mesh", {}, "istio-system"),
    item("Service", "reviews", {}),
  ];
  const diags: Diagnostic[] = [{ level: "warning", code: "IST0173", message: "subset selects nothing", resource: "DestinationRule default/reviews", path: "spec.subsets[1]", source: { file: "reviews.yaml", line: 9, column: 3 } }];
  const got = appliedConfig(items, diags, { service: REVIEWS, namespace: "default", workloadLabels: [{ app: "reviews", version: "v1" }] });
  assert.deepEqual(got.map((c) => `${c.kind} ${c.namespace}/${c.name}: ${c.why}`), [
    "VirtualService default/reviews: hosts[0] reviews",
    "VirtualService default/edge: routes to it at gateway bookinfo-gateway",
    "DestinationRule default/reviews: host reviews.default.svc.cluster.local",
    "AuthorizationPolicy default/reviews-only: selector app=reviews",
    "PeerAuthentication default/ns-wide: namespace-wide",
    "PeerAuthentication istio-system/mesh: mesh-wide (root namespace)",
  ]);
  assert.equal(got[2]!.diagnostics.length, 1);
  const rows = configRows(items, [...diags, { ...diags[0]!, resource: "" }]);
  assert.equal(rows.rows.find((r) => r.kind === "DestinationRule")?.diagnostics.length, 1);
  assert.equal(rows.other.length, 1);
});
