import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { deployment, destinationRule, findings, service, serviceEntry, summary, workload, workloadEntry } from "./harness.ts";
import { subsetWorkloadsCheck } from "./subset-workloads.ts";

const dr = destinationRule("reviews", "reviews", { v1: { version: "v1" }, v2: { version: "v2" } });
const V2 = "IST0173 warning spec.subsets[1].labels";

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "both subsets have a Workload", docs: [service("reviews"), workload("r1", { app: "reviews", version: "v1" }), workload("r2", { app: "reviews", version: "v2" }), dr], want: [] },
  { name: "v2 has no workload", docs: [service("reviews"), workload("r1", { app: "reviews", version: "v1" }), dr], want: [V2] },
  { name: "v2 workload belongs to another service", docs: [service("reviews"), workload("r1", { app: "reviews", version: "v1" }), workload("x", { app: "ratings", version: "v2" }), dr], want: [V2] },
  { name: "v2 workload in another namespace", docs: [service("reviews"), workload("r1", { app: "reviews", version: "v1" }), workload("r2", { app: "reviews", version: "v2" }, { namespace: "other" }), dr], want: [V2] },
  { name: "v2 workload scaled to 0", docs: [service("reviews"), workload("r1", { app: "reviews", version: "v1" }), workload("r2", { app: "reviews", version: "v2" }, { replicas: 0 }), dr], want: [V2] },
  { name: "WorkloadEntry counts", docs: [service("reviews"), workload("r1", { app: "reviews", version: "v1" }), workloadEntry("vm", { app: "reviews", version: "v2" }), dr], want: [] },
  { name: "Deployment pod template counts", docs: [service("reviews"), deployment("r1", { app: "reviews", version: "v1" }), deployment("r2", { app: "reviews", version: "v2" }), dr], want: [] },
  { name: "no workloads anywhere in the input: nothing to judge", docs: [service("reviews"), dr], want: [] },
  { name: "Service without selector: cannot tell", docs: [service("reviews", { selector: null }), workload("w", { app: "x" }), dr], want: [] },
  { name: "unknown host: left to IST0174", docs: [workload("w", { app: "x" }), dr], want: [] },
  { name: "ServiceEntry endpoints carry the labels", docs: [serviceEntry("db", { hosts: ["db.example.com"], endpoints: [{ address: "1.2.3.4", labels: { version: "v1" } }] }), destinationRule("db", "db.example.com", { v1: { version: "v1" }, v2: { version: "v2" } })], want: [V2] },
];

for (const c of cases) {
  test(`subset workloads: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, subsetWorkloadsCheck)), c.want);
  });
}

test("subset workloads: the message shows what labels the workloads carry", () => {
  const [d] = findings([service("reviews"), workload("r1", { app: "reviews", version: "v1" }), workload("r3", { app: "reviews", version: "v3" }), dr], subsetWorkloadsCheck);
  assert.match(d?.message ?? "", /^Subset "v2" \(labels version=v2\) selects no workload of reviews\.default\.svc\.cluster\.local, so requests routed to it fail with 503/);
  assert.match(d?.message ?? "", /Its workloads carry version=v1\|v3; fix the subset labels or add a workload with them\.$/);
});
