// PeerAuthentication precedence on a sidecar's inbound ports: workload selector > namespace >
// mesh (root namespace) > PERMISSIVE; UNSET inherits; portLevelMtls overrides per workload port.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { translate } from "./index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const pa = (name: string, ns: string, body: string): string => `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${body}---\n`;
const svc = k8sService("reviews", "default", [{ name: "http", port: 9080 }, { name: "http-admin", port: 9090 }]);

function modes(yaml: string): Record<string, string | undefined> {
  const cfg = translate(snapshotFrom(svc + yaml, [inst("reviews", "v1", "127.0.0.1")]), sidecarProxy({ app: "reviews", version: "v1" }));
  return Object.fromEntries(cfg.listeners.filter((l) => l.direction === "inbound").map((l) => [l.name, l.mtls]));
}

describe("PeerAuthentication → inbound listener mtls", () => {
  it("none: PERMISSIVE (no field)", () => {
    assert.deepEqual(modes(""), { "inbound|9080": undefined, "inbound|9090": undefined });
  });
  it("mesh-wide STRICT in the root namespace applies; a namespace policy overrides it; a workload policy overrides both", () => {
    const mesh = pa("default", "istio-system", "  mtls: {mode: STRICT}\n");
    assert.deepEqual(modes(mesh), { "inbound|9080": "STRICT", "inbound|9090": "STRICT" });
    const ns = pa("default", "default", "  mtls: {mode: DISABLE}\n");
    assert.deepEqual(modes(mesh + ns), { "inbound|9080": "DISABLE", "inbound|9090": "DISABLE" });
    const wl = pa("reviews", "default", "  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: PERMISSIVE}\n");
    assert.deepEqual(modes(mesh + ns + wl), { "inbound|9080": undefined, "inbound|9090": undefined });
  });
  it("UNSET inherits; portLevelMtls overrides one workload port", () => {
    const mesh = pa("default", "istio-system", "  mtls: {mode: STRICT}\n");
    const wl = pa("reviews", "default", "  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: UNSET}\n  portLevelMtls:\n    9090: {mode: DISABLE}\n");
    assert.deepEqual(modes(mesh + wl), { "inbound|9080": "STRICT", "inbound|9090": "DISABLE" });
  });
  it("a policy in another namespace, or selecting other workloads, does not apply", () => {
    assert.deepEqual(modes(pa("x", "other", "  mtls: {mode: STRICT}\n") + pa("y", "default", "  selector: {matchLabels: {app: ratings}}\n  mtls: {mode: STRICT}\n")), { "inbound|9080": undefined, "inbound|9090": undefined });
  });
});
