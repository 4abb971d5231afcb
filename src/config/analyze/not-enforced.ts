// Check: security config that Amime validates but does not enforce yet says so, every time
// (AMM1014): an AuthorizationPolicy with action CUSTOM, and the parts of
// other AuthorizationPolicies that Amime cannot evaluate (experimental.* keys, connection.sni)
// do not act as under Istio (peer-identity conditions work: the identity is the verified mTLS
// certificate's, empty for plaintext callers as in Istio), so config that would fail closed there may fail open here.
// PeerAuthentication (inbound mTLS modes), RequestAuthentication (jwt_authn) and ALLOW/DENY/AUDIT
// AuthorizationPolicy (rbac) are enforced
// (docs/security.md). (DestinationRule ISTIO_MUTUAL works: AMM1015 is retired.) Remove a kind
// from here in the change that enforces it.
import type { Resource } from "../resource.ts";
import { AnalyzerCodes } from "./codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { portProtocol } from "../types/kubernetes.ts";
import { arr, obj, specOf, str, strMap } from "./json.ts";

export const notEnforcedCheck: Check = {
  name: "not-enforced",
  run(ctx: AnalysisContext): void {
    for (const r of ctx.ofKind("AuthorizationPolicy", "security.istio.io")) {
      const message = authorizationPolicy(r, tcpPortsSelected(ctx, r));
      if (message !== null) ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, [], message);
    }
  },
};

/** HTTP-family protocols: requests on these ports run the rbac filter. */
const HTTP_PROTOCOLS = new Set(["http", "http2", "grpc", "grpc-web", "unknown"]);

/** `host:port` of TCP Service ports whose workloads the policy selects (no rbac network filter yet). */
function tcpPortsSelected(ctx: AnalysisContext, r: Resource): string[] {
  const spec = specOf(r.body);
  const selector = spec.selector === undefined ? undefined : strMap(obj(spec.selector)?.matchLabels);
  const ns = r.metadata.namespace ?? "default";
  const root = ns === ctx.index.options.rootNamespace && selector === undefined && spec.targetRef === undefined && spec.targetRefs === undefined;
  const out: string[] = [];
  for (const s of ctx.index.services) {
    if (s.kind !== "Service" || s.selector === undefined || (!root && s.namespace !== ns)) continue;
    if (selector !== undefined && !Object.entries(selector).every(([k, v]) => s.selector?.[k] === v)) continue;
    for (const p of s.ports) if (!HTTP_PROTOCOLS.has(portProtocol({ name: p.name ?? "" }))) out.push(`${s.host}:${p.number}`);
  }
  return out;
}

function authorizationPolicy(r: Resource, tcpPorts: readonly string[] = []): string | null {
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
  if (tcpPorts.length > 0) parts.push(`it is not applied to TCP ports yet (${tcpPorts.slice(0, 3).join(", ")}${tcpPorts.length > 3 ? ", …" : ""}): connections there are neither allowed nor denied by it`);
  if (unsupported.size > 0) parts.push(`${[...unsupported].join(", ")} cannot be evaluated by Amime (${action === "DENY" ? "a DENY condition on it always applies" : "a condition on it never matches"})`);
  return parts.length === 0 ? null : `Partly enforced: ${parts.join("; ")}.`;
}
