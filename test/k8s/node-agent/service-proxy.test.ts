// The test node's kube-proxy rules (service-proxy.ts): ClusterIP:port → ready endpoints of the
// EndpointSlice port of the same name; no ready endpoint → REJECT; headless and ExternalName skipped.
// test/k8s/installed.test.ts runs them in a real node namespace (pods reach the control plane's Service).
import assert from "node:assert/strict";
import { it } from "node:test";
import type { KubeObject } from "../../../src/control-plane/kubernetes/index.ts";
import { serviceRules } from "./service-proxy.ts";

const svc = (name: string, spec: object): KubeObject => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "istio-system" }, spec }) as unknown as KubeObject;
const slice = (svcName: string, name: string, body: object): KubeObject => ({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name, namespace: "istio-system", labels: { "kubernetes.io/service-name": svcName } }, addressType: "IPv4", ...body }) as unknown as KubeObject;

it("DNATs each Service port to its ready endpoints, at random with equal weight, and masquerades what it DNATs", () => {
  const rules = serviceRules(
    [svc("amime", { clusterIP: "10.96.0.20", ports: [{ name: "https-xds", port: 15012, protocol: "TCP" }, { name: "https-webhook", port: 443, protocol: "TCP" }] })],
    [
      slice("amime", "amime-a", {
        ports: [{ name: "https-xds", port: 15012, protocol: "TCP" }, { name: "https-webhook", port: 15017, protocol: "TCP" }],
        endpoints: [{ addresses: ["10.201.1.2"], conditions: { ready: true } }, { addresses: ["10.201.1.3"], conditions: { ready: false } }],
      }),
      slice("amime", "amime-b", { ports: [{ name: "https-xds", port: 15012, protocol: "TCP" }], endpoints: [{ addresses: ["10.201.1.4"], conditions: {} }] }),
    ],
  );
  const lines = rules.split("\n");
  assert.ok(lines.includes("-A PREROUTING -j AMIME-KUBE-SERVICES"));
  assert.ok(lines.includes("-A POSTROUTING -m conntrack --ctstate DNAT -j MASQUERADE"));
  assert.ok(lines.includes("-A AMIME-KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m tcp --dport 15012 -j AMIME-SVC-1"));
  assert.ok(lines.includes("-A AMIME-SVC-1 -p tcp -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 10.201.1.2:15012"));
  assert.ok(lines.includes("-A AMIME-SVC-1 -p tcp -j DNAT --to-destination 10.201.1.4:15012"));
  assert.ok(lines.includes("-A AMIME-SVC-2 -p tcp -j DNAT --to-destination 10.201.1.2:15017"), "443 → the slice's https-webhook port");
  assert.ok(!rules.includes("10.201.1.3"), "a not-ready endpoint takes no traffic");
  assert.ok(!rules.includes("REJECT"));
});

it("rejects a port with no ready endpoint; headless and ExternalName Services get no rule", () => {
  const rules = serviceRules([
    svc("empty", { clusterIP: "10.96.0.30", ports: [{ port: 80 }] }),
    svc("headless", { clusterIP: "None", ports: [{ port: 80 }] }),
    svc("outside", { type: "ExternalName", externalName: "example.com", ports: [{ port: 80 }] }),
  ], []);
  assert.match(rules, /^-A FORWARD -d 10\.96\.0\.30\/32 -p tcp -m tcp --dport 80 -j REJECT$/m);
  assert.doesNotMatch(rules, /AMIME-SVC-/);
  assert.equal(rules.match(/^COMMIT$/gm)?.length, 2);
});
