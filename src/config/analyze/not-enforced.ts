// Check: security config that Amime validates but does not enforce yet says so, every time
// (AMM1014): an AuthorizationPolicy with action CUSTOM, and the parts of
// other AuthorizationPolicies that Amime cannot evaluate (experimental.* keys, connection.sni)
// do not act as under Istio (peer-identity conditions work: the identity is the verified mTLS
// certificate's, empty for plaintext callers as in Istio), so config that would fail closed there may fail open here.
// PeerAuthentication (inbound mTLS modes), RequestAuthentication (jwt_authn) and ALLOW/DENY/AUDIT
// AuthorizationPolicy (rbac HTTP filter, and rbac network filter on TCP ports) are enforced
// (docs/security.md). (DestinationRule ISTIO_MUTUAL works: AMM1015 is retired.) Remove a kind
// from here in the change that enforces it.
import type { Resource } from "../resource.ts";
import { AnalyzerCodes } from "./codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";

export const notEnforcedCheck: Check = {
  name: "not-enforced",
  run(ctx: AnalysisContext): void {
    for (const r of ctx.ofKind("AuthorizationPolicy", "security.istio.io")) {
      const message = authorizationPolicy(r);
      if (message !== null) ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, [], message);
    }
  },
};

function authorizationPolicy(r: Resource): string | null {
  const spec = specOf(r.body);
  const action = str(spec.action) ?? "ALLOW";
  if (action === "CUSTOM") return "Accepted, not enforced: action CUSTOM (external authorization) is not built yet, so the external authorizer is never asked and requests it would deny get through (no 403).";
  const unsupported = new Set<string>();
  for (const rule of arr(spec.rules)) {
    for (const c of arr(obj(rule)?.when)) {
      const key = str(obj(c)?.key) ?? "";
      if (key.startsWith("experimental.") || key === "connection.sni") unsupported.add(key);
    }
  }
  const parts: string[] = [];
  if (unsupported.size > 0) parts.push(`${[...unsupported].join(", ")} cannot be evaluated by Amime (${action === "DENY" ? "a DENY condition on it always applies" : "a condition on it never matches"})`);
  return parts.length === 0 ? null : `Partly enforced: ${parts.join("; ")}.`;
}
