import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { conflictingHostsCheck } from "./conflicting-hosts.ts";
import { findings, routeTo, summary, virtualService } from "./harness.ts";

const vs = (name: string, hosts: string[], extra: JsonObject = {}, ns?: string): JsonObject =>
  virtualService(name, { hosts, http: [{ route: [routeTo("reviews")] }], ...extra }, ns);

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "one VirtualService per host", docs: [vs("a", ["reviews"]), vs("b", ["ratings"])], want: [] },
  { name: "same host on the mesh", docs: [vs("a", ["reviews"]), vs("b", ["reviews"])], want: ["IST0109 error spec.hosts[0]", "IST0109 error spec.hosts[0]"] },
  { name: "short name and FQDN are the same host", docs: [vs("a", ["reviews"]), vs("b", ["ratings", "reviews.default.svc.cluster.local"])], want: ["IST0109 error spec.hosts[0]", "IST0109 error spec.hosts[1]"] },
  { name: "same short name in different namespaces are different hosts", docs: [vs("a", ["reviews"]), vs("b", ["reviews"], {}, "other")], want: [] },
  { name: "explicit mesh and implicit mesh", docs: [vs("a", ["reviews"], { gateways: ["mesh"] }), vs("b", ["reviews"])], want: ["IST0109 error spec.hosts[0]", "IST0109 error spec.hosts[0]"] },
  { name: "one on the mesh, one on a gateway", docs: [vs("a", ["reviews"]), vs("b", ["reviews"], { gateways: ["gw"] })], want: [] },
  { name: "same named gateway: merged by Istio, a warning", docs: [vs("a", ["shop.example.com"], { gateways: ["gw"] }), vs("b", ["shop.example.com"], { gateways: ["default/gw"] })], want: ["AMM1004 warning spec.hosts[0]", "AMM1004 warning spec.hosts[0]"] },
  { name: "exported only to their own, different namespaces", docs: [vs("a", ["reviews.x.svc.cluster.local"], { exportTo: ["."] }), vs("b", ["reviews.x.svc.cluster.local"], { exportTo: ["."] }, "other")], want: [] },
  { name: "a wildcard and a name under it do not conflict", docs: [vs("a", ["*.example.com"], { gateways: ["mesh"] }), vs("b", ["api.example.com"])], want: [] },
];

for (const c of cases) {
  test(`conflicting hosts: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, conflictingHostsCheck)), c.want);
  });
}

test("conflicting hosts: the message names both VirtualServices and the host", () => {
  const [d] = findings([vs("a", ["reviews"]), vs("b", ["reviews"])], conflictingHostsCheck);
  assert.match(d?.message ?? "", /^The VirtualServices default\/a, default\/b associated with mesh gateway define the same host reviews\.default\.svc\.cluster\.local/);
  assert.match(d?.message ?? "", /Merge them into a single VirtualService\.$/);
});
