import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { destinationRuleHostsCheck } from "./destination-rule-hosts.ts";
import { destinationRule, findings, service, serviceEntry, summary } from "./harness.ts";

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "host is a Service", docs: [service("reviews"), destinationRule("reviews", "reviews")], want: [] },
  { name: "misspelt host", docs: [service("reviews"), destinationRule("reviews", "reveiws")], want: ["IST0174 warning spec.host"] },
  { name: "host is a ServiceEntry host", docs: [serviceEntry("g", { hosts: ["www.googleapis.com"] }), destinationRule("g", "www.googleapis.com")], want: [] },
  { name: "wildcard host covering a Service", docs: [service("reviews"), destinationRule("all", "*.default.svc.cluster.local")], want: [] },
  { name: "wildcard host covering nothing", docs: [service("reviews"), destinationRule("all", "*.example.com")], want: ["IST0174 warning spec.host"] },
  { name: "FQDN of a Service in another namespace", docs: [service("reviews", { namespace: "x" }), destinationRule("r", "reviews.x.svc.cluster.local")], want: [] },
];

for (const c of cases) {
  test(`destination rule hosts: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, destinationRuleHostsCheck)), c.want);
  });
}

test("destination rule hosts: message as istioctl's, with a suggestion", () => {
  const [d] = findings([service("reviews"), destinationRule("reviews", "reveiws")], destinationRuleHostsCheck);
  assert.equal(d?.message, 'The host reveiws defined in the DestinationRule does not match any services in the mesh (reveiws.default.svc.cluster.local), so the rule has no effect. Did you mean "reviews"?');
});
