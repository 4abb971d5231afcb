// Check: security config that Amime validates but does not enforce yet says so, every time
// (AMM1014): a PeerAuthentication, an AuthorizationPolicy with action CUSTOM, and the parts of
// other AuthorizationPolicies that need a peer identity (principals, namespaces… which stay empty
// until mutual TLS lands) or that Amime cannot evaluate (experimental.* keys, connection.sni)
// do not act as under Istio, so config that would fail closed there may fail open here.
// RequestAuthentication (jwt_authn) and ALLOW/DENY/AUDIT AuthorizationPolicy (rbac) are enforced
// (docs/security.md). (DestinationRule ISTIO_MUTUAL works: AMM1015 is retired.) Remove a kind
// from here in the change that enforces it.
import type { Resource } from "../resource.ts";
import { AnalyzerCodes } from "./codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";

export const notEnforcedCheck: Check = {
  name: "not-enforced",
  run(ctx: AnalysisContext): void {
    for (const r of ctx.ofKind("PeerAuthentication", "security.istio.io")) ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, [], peerAuthentication(r));
    for (const r of ctx.ofKind("AuthorizationPolicy", "security.istio.io")) {
      const message = authorizationPolicy(r);
      if (message !== null) ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, [], message);
    }
  },
};

function peerAuthentication(r: Resource): string {
  const mode = str(obj(specOf(r.body).mtls)?.mode) ?? "UNSET";
  const consequence = mode === "STRICT"
    ? "plaintext connections are NOT refused and callers are NOT authenticated, although this policy requires STRICT mTLS"
    : mode === "DISABLE" ? "connections stay plaintext (as DISABLE asks), but not because of this policy" : "connections between sidecars are plaintext and callers are NOT authenticated";
  return `Accepted, not enforced: Amime's sidecars do not do mutual TLS yet (mode ${mode}): ${consequence}.`;
}

/** Source fields and when keys that read the peer's mTLS identity. */
const PEER_FIELDS = ["principals", "notPrincipals", "namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts", "trustDomains", "notTrustDomains"];
const PEER_KEYS = new Set(["source.principal", "source.namespace", "source.serviceAccount", "source.trustDomain"]);

function authorizationPolicy(r: Resource): string | null {
  const spec = specOf(r.body);
  const action = str(spec.action) ?? "ALLOW";
  if (action === "CUSTOM") return "Accepted, not enforced: action CUSTOM (external authorization) is not built yet, so the external authorizer is never asked and requests it would deny get through (no 403).";
  const peer = new Set<string>();
  const unsupported = new Set<string>();
  for (const rule of arr(spec.rules)) {
    for (const from of arr(obj(rule)?.from)) {
      const source = obj(obj(from)?.source) ?? {};
      for (const f of PEER_FIELDS) if (arr(source[f]).length > 0) peer.add(f);
    }
    for (const c of arr(obj(rule)?.when)) {
      const key = str(obj(c)?.key) ?? "";
      if (PEER_KEYS.has(key)) peer.add(key);
      else if (key.startsWith("experimental.") || key === "connection.sni") unsupported.add(key);
    }
  }
  const parts: string[] = [];
  if (peer.size > 0) {
    parts.push(`${[...peer].join(", ")} match the caller's mTLS identity, which Amime's sidecars do not pass to authorization yet, so ${action === "DENY" ? "those DENY conditions never apply and requests they should deny get through" : "those conditions never match and the requests they should allow are denied"}`);
  }
  if (unsupported.size > 0) parts.push(`${[...unsupported].join(", ")} cannot be evaluated by Amime (${action === "DENY" ? "a DENY condition on it always applies" : "a condition on it never matches"})`);
  return parts.length === 0 ? null : `Partly enforced: ${parts.join("; ")}.`;
}
