import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { destinationRule, findings, peerAuthentication, service, summary, workload } from "./harness.ts";
import { mtlsConflictsCheck } from "./mtls-conflicts.ts";

const tls = (mode: string): JsonObject => ({ trafficPolicy: { tls: { mode } } });
const base = [service("reviews"), workload("reviews-v1", { app: "reviews", version: "v1" }), workload("reviews-v2", { app: "reviews", version: "v2" })];
const TOP = "IST0113 error spec.trafficPolicy.tls.mode";

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "DISABLE toward a namespace-wide STRICT", docs: [...base, peerAuthentication("ns", "STRICT"), destinationRule("r", "reviews", {}, tls("DISABLE"))], want: [TOP] },
  { name: "SIMPLE toward a mesh-wide STRICT", docs: [...base, peerAuthentication("mesh", "STRICT", { namespace: "istio-system" }), destinationRule("r", "reviews", {}, tls("SIMPLE"))], want: [TOP] },
  { name: "ISTIO_MUTUAL toward STRICT", docs: [...base, peerAuthentication("ns", "STRICT"), destinationRule("r", "reviews", {}, tls("ISTIO_MUTUAL"))], want: [] },
  { name: "DISABLE toward PERMISSIVE", docs: [...base, peerAuthentication("ns", "PERMISSIVE"), destinationRule("r", "reviews", {}, tls("DISABLE"))], want: [] },
  { name: "DISABLE with no PeerAuthentication (PERMISSIVE default)", docs: [...base, destinationRule("r", "reviews", {}, tls("DISABLE"))], want: [] },
  { name: "STRICT in another namespace does not apply", docs: [...base, peerAuthentication("ns", "STRICT", { namespace: "other" }), destinationRule("r", "reviews", {}, tls("DISABLE"))], want: [] },
  { name: "workload policy overrides the namespace one", docs: [...base, peerAuthentication("ns", "STRICT"), peerAuthentication("w", "PERMISSIVE", { selector: { app: "reviews" } }), destinationRule("r", "reviews", {}, tls("DISABLE"))], want: [] },
  { name: "UNSET inherits the namespace mode", docs: [...base, peerAuthentication("ns", "STRICT"), peerAuthentication("w", "UNSET", { selector: { app: "reviews" } }), destinationRule("r", "reviews", {}, tls("DISABLE"))], want: [TOP] },
  { name: "ISTIO_MUTUAL toward a workload with DISABLE", docs: [...base, peerAuthentication("w", "DISABLE", { selector: { version: "v2" } }), destinationRule("r", "reviews", {}, tls("ISTIO_MUTUAL"))], want: [TOP] },
  {
    name: "subset TLS only toward the subset's workloads",
    docs: [...base, peerAuthentication("w", "STRICT", { selector: { version: "v2" } }), { ...destinationRule("r", "reviews"), spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" }, trafficPolicy: { tls: { mode: "DISABLE" } } }, { name: "v2", labels: { version: "v2" }, trafficPolicy: { tls: { mode: "DISABLE" } } }] } }],
    want: ["IST0113 error spec.subsets[1].trafficPolicy.tls.mode"],
  },
  {
    name: "port-level DISABLE matches a portLevelMtls DISABLE",
    docs: [...base, peerAuthentication("w", "STRICT", { selector: { app: "reviews" }, portLevelMtls: { "9080": { mode: "DISABLE" } } }), destinationRule("r", "reviews", {}, { trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, tls: { mode: "DISABLE" } }] } })],
    want: [],
  },
  {
    name: "port-level DISABLE toward a STRICT port",
    docs: [...base, peerAuthentication("w", "STRICT", { selector: { app: "reviews" } }), destinationRule("r", "reviews", {}, { trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, tls: { mode: "DISABLE" } }] } })],
    want: ["IST0113 error spec.trafficPolicy.portLevelSettings[0].tls.mode"],
  },
  { name: "service without workloads in the input: namespace policy decides", docs: [service("reviews"), peerAuthentication("ns", "STRICT"), destinationRule("r", "reviews", {}, tls("DISABLE"))], want: [TOP] },
];

for (const c of cases) {
  test(`mtls conflicts: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, mtlsConflictsCheck)), c.want);
  });
}

test("mtls conflicts: the message names the policy, the workloads and the fix", () => {
  const [d] = findings([...base, peerAuthentication("strict", "STRICT"), destinationRule("r", "reviews", {}, tls("DISABLE"))], mtlsConflictsCheck);
  assert.equal(d?.message, "A DestinationRule and Policy are in conflict with regards to mTLS for host reviews.default.svc.cluster.local: this rule sets tls.mode DISABLE (plaintext) but PeerAuthentication default/strict requires STRICT mTLS on Workload reviews-v1, Workload reviews-v2, so Istio's sidecars refuse those connections. Set the PeerAuthentication to PERMISSIVE, or remove tls to let auto mTLS decide.");
  assert.doesNotMatch(d?.message ?? "", /Use ISTIO_MUTUAL/);
});
