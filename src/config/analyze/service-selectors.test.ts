import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { findings, service, summary, workload } from "./harness.ts";
import { serviceSelectorsCheck } from "./service-selectors.ts";

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "selector matches a Workload", docs: [service("reviews"), workload("r", { app: "reviews", version: "v1" })], want: [] },
  { name: "selector matches nothing", docs: [service("reviews"), workload("r", { app: "ratings" })], want: ["AMM1003 info spec.selector"] },
  { name: "only a scaled-down workload", docs: [service("reviews"), workload("r", { app: "reviews" }, { replicas: 0 })], want: ["AMM1003 info spec.selector"] },
  { name: "Service without selector", docs: [service("reviews", { selector: null }), workload("r", { app: "ratings" })], want: [] },
  { name: "no workloads in the input at all", docs: [service("reviews")], want: [] },
];

for (const c of cases) {
  test(`service selectors: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, serviceSelectorsCheck)), c.want);
  });
}
