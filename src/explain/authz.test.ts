import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { translate } from "../control-plane/translate/index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "../control-plane/translate/testing.ts";
import { explainAuthz } from "./authz.ts";
import { parseExplainRequest } from "./request.ts";

const DEMO_JWT = readFileSync(new URL("../../test/fixtures/istio/security/tools/jwt/samples/demo.jwt", import.meta.url), "utf8").trim();
const doc = (kind: string, name: string, spec: unknown): string => JSON.stringify({ apiVersion: "security.istio.io/v1", kind, metadata: { name, namespace: "default" }, spec }) + "\n---\n";

describe("explain: authorization at the destination", () => {
  const s = snapshotFrom(
    k8sService("httpbin") +
      doc("RequestAuthentication", "jwt", { selector: { matchLabels: { app: "httpbin" } }, jwtRules: [{ issuer: "testing@secure.istio.io", jwks: "{\"keys\":[]}" }] }) +
      doc("AuthorizationPolicy", "require-jwt", { selector: { matchLabels: { app: "httpbin" } }, rules: [{ from: [{ source: { requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"] } }] }] }) +
      doc("AuthorizationPolicy", "deny-admin", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin/*"] } }] }] }),
    [inst("httpbin", "v1", "10.0.0.9")],
  );
  const dest = translate(s, sidecarProxy({ app: "httpbin", version: "v1" }));
  const ask = (path: string, headers: string[] = []): ReturnType<typeof explainAuthz> => explainAuthz(dest, 9080, parseExplainRequest(`http://httpbin:9080${path}`, "GET", headers), "10.0.0.1");

  it("no token: no ALLOW matches → 403", () => {
    assert.equal(ask("/headers")?.summary, "denied (403 RBAC: access denied): ALLOW policies apply and none matches");
  });
  it("demo.jwt: its principal is shown and the ALLOW rule named", () => {
    const v = ask("/headers", [`Authorization: Bearer ${DEMO_JWT}`]);
    assert.equal(v?.requestPrincipal, "testing@secure.istio.io/testing@secure.istio.io");
    assert.equal(v?.summary, "allowed by ns[default]-policy[require-jwt] rule 0");
  });
  it("a DENY on the path wins, and no inbound listener on another port gives null", () => {
    assert.equal(ask("/admin/x", [`Authorization: Bearer ${DEMO_JWT}`])?.summary, "denied (403 RBAC: access denied) by ns[default]-policy[deny-admin] rule 0");
    assert.equal(explainAuthz(dest, 1234, parseExplainRequest("http://httpbin:1234/"), "10.0.0.1"), null);
  });
  it("the caller's identity is used when given (ISTIO_MUTUAL)", () => {
    const s2 = snapshotFrom(k8sService("httpbin") + doc("AuthorizationPolicy", "viewer", { selector: { matchLabels: { app: "httpbin" } }, rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/curl"] } }] }] }), [inst("httpbin", "v1", "10.0.0.9")]);
    const d2 = translate(s2, sidecarProxy({ app: "httpbin", version: "v1" }));
    const req = parseExplainRequest("http://httpbin:9080/");
    assert.equal(explainAuthz(d2, 9080, req, "10.0.0.1", "cluster.local/ns/default/sa/curl")?.summary, "allowed by ns[default]-policy[viewer] rule 0");
    assert.equal(explainAuthz(d2, 9080, req, "10.0.0.1")?.summary, "denied (403 RBAC: access denied): ALLOW policies apply and none matches");
  });
});
