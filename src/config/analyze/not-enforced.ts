// Check: security config that Amime validates but does not enforce yet says so, every time
// (AMM1014): a PeerAuthentication or AuthorizationPolicy changes nothing on the wire today
// (RequestAuthentication is enforced by the sidecars' jwt_authn filter, docs/security.md), so
// config that would fail closed under Istio fails open here. (DestinationRule ISTIO_MUTUAL works:
// AMM1015 is retired.) Remove a kind from here in the change that enforces it.
import type { Resource } from "../resource.ts";
import { AnalyzerCodes } from "./codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";

export const notEnforcedCheck: Check = {
  name: "not-enforced",
  run(ctx: AnalysisContext): void {
    for (const r of ctx.ofKind("PeerAuthentication", "security.istio.io")) ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, [], peerAuthentication(r));
    for (const r of ctx.ofKind("AuthorizationPolicy", "security.istio.io")) ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, [], authorizationPolicy(r));
  },
};

function peerAuthentication(r: Resource): string {
  const mode = str(obj(specOf(r.body).mtls)?.mode) ?? "UNSET";
  const consequence = mode === "STRICT"
    ? "plaintext connections are NOT refused and callers are NOT authenticated, although this policy requires STRICT mTLS"
    : mode === "DISABLE" ? "connections stay plaintext (as DISABLE asks), but not because of this policy" : "connections between sidecars are plaintext and callers are NOT authenticated";
  return `Accepted, not enforced: Amime's sidecars do not do mutual TLS yet (mode ${mode}): ${consequence}.`;
}

function authorizationPolicy(r: Resource): string {
  const spec = specOf(r.body);
  const action = str(spec.action) ?? "ALLOW";
  const rules = arr(spec.rules).length;
  const effect = action === "DENY" ? "requests it should deny get through"
    : action === "CUSTOM" ? "the external authorizer is never asked"
    : action === "AUDIT" ? "nothing is audited"
    : rules === 0 ? "it should deny every request (an ALLOW policy without rules allows nothing), yet every request gets through" : "requests it does not allow get through";
  return `Accepted, not enforced: requests are NOT authorized: this ${action} policy is not applied, so ${effect} (no 403).`;
}
