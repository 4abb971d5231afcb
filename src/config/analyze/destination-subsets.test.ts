import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { destinationSubsetsCheck } from "./destination-subsets.ts";
import { destinationRule, findings, routeTo, service, summary, virtualService } from "./harness.ts";

const split = (...route: JsonObject[]): JsonObject => virtualService("r", { hosts: ["reviews"], http: [{ route }] });
const SUBSET0 = "spec.http[0].route[0].destination.subset";
const SUBSET1 = "spec.http[0].route[1].destination.subset";

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "subset defined", docs: [service("reviews"), destinationRule("reviews", "reviews", { v1: { version: "v1" } }), split(routeTo("reviews", "v1"))], want: [] },
  { name: "no subset named", docs: [service("reviews"), split(routeTo("reviews"))], want: [] },
  { name: "no DestinationRule at all", docs: [service("reviews"), split(routeTo("reviews", "v1"))], want: [`IST0101 error ${SUBSET0}`] },
  { name: "DestinationRule lacks the subset", docs: [destinationRule("reviews", "reviews", { v1: { version: "v1" } }), split(routeTo("reviews", "v2"))], want: [`IST0101 error ${SUBSET0}`] },
  { name: "DestinationRule written with the FQDN", docs: [destinationRule("reviews", "reviews.default.svc.cluster.local", { v1: { version: "v1" } }), split(routeTo("reviews", "v1"))], want: [] },
  { name: "DestinationRule in another namespace for the same FQDN", docs: [destinationRule("reviews", "reviews.default.svc.cluster.local", { v1: { version: "v1" } }, {}, "ops"), split(routeTo("reviews", "v1"))], want: [] },
  { name: "short host in another namespace's DestinationRule means another service", docs: [destinationRule("reviews", "reviews", { v1: { version: "v1" } }, {}, "ops"), split(routeTo("reviews", "v1"))], want: [`IST0101 error ${SUBSET0}`] },
  { name: "DestinationRule not exported to the VirtualService's namespace", docs: [destinationRule("reviews", "reviews.default.svc.cluster.local", { v1: {} }, { exportTo: ["."] }, "ops"), split(routeTo("reviews", "v1"))], want: [`IST0101 error ${SUBSET0}`] },
  { name: "wildcard DestinationRule host covers the destination", docs: [destinationRule("all", "*.default.svc.cluster.local", { v1: { version: "v1" } }), split(routeTo("reviews", "v1"))], want: [] },
  { name: "mirror subset", docs: [destinationRule("reviews", "reviews", { v1: {} }), virtualService("r", { hosts: ["reviews"], http: [{ route: [routeTo("reviews", "v1")], mirror: { host: "reviews", subset: "v9" } }] })], want: ["IST0101 error spec.http[0].mirror.subset"] },
  {
    name: "split mixes hosts: subset exists only for the other host",
    docs: [destinationRule("reviews", "reviews", { v1: {} }), destinationRule("ratings", "ratings", { v2: {} }), split(routeTo("reviews", "v1", 50), routeTo("reviews", "v2", 50), routeTo("ratings", "v2", 0))],
    want: [`AMM1001 error ${SUBSET1}`],
  },
  {
    name: "split across two hosts that each define the subset",
    docs: [destinationRule("reviews", "reviews", { v1: {} }), destinationRule("ratings", "ratings", { v1: {} }), split(routeTo("reviews", "v1", 50), routeTo("ratings", "v1", 50))],
    want: [],
  },
];

for (const c of cases) {
  test(`destination subsets: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, destinationSubsetsCheck)), c.want);
  });
}

test("destination subsets: messages say which subsets exist and what to do", () => {
  const [missing] = findings([destinationRule("reviews", "reviews", { v1: {}, v3: {} }), split(routeTo("reviews", "v2"))], destinationSubsetsCheck);
  assert.equal(missing?.message, 'Referenced host+subset in destinationrule not found: "reviews+v2" (DestinationRule default/reviews defines only "v1", "v3"; add subset "v2" there or fix the name).');
  const [mixed] = findings([destinationRule("reviews", "reviews", {}), destinationRule("ratings", "ratings", { v2: {} }), split(routeTo("ratings", "v2", 50), routeTo("reviews", "v2", 50))], destinationSubsetsCheck);
  assert.match(mixed?.message ?? "", /Subset "v2" is defined for ratings \(DestinationRule default\/ratings\), not for reviews/);
});
