// Check: security config that Amime validates but does not enforce yet says so, every time
// (AMM1014): the parts of AuthorizationPolicies that Amime cannot evaluate (experimental.* keys, connection.sni)
// do not act as under Istio (peer-identity conditions work: the identity is the verified mTLS
// certificate's, empty for plaintext callers as in Istio), so config that would fail closed there may fail open here.
// PeerAuthentication (inbound mTLS modes), RequestAuthentication (jwt_authn), ALLOW/DENY/AUDIT
// AuthorizationPolicy (rbac HTTP filter, and rbac network filter on TCP ports) and CUSTOM (ext_authz,
// HTTP and network) are enforced
// (docs/security.md). (DestinationRule ISTIO_MUTUAL works: AMM1015 is retired.) Remove a kind
// from here in the change that enforces it. TLS settings that do not do what they seem are flagged
// the same way: DestinationRule `credentialName` without a workloadSelector (only gateways read it;
// sidecars originate no TLS, as Istio) and Gateway servers Amime does not build: `credentialNames`,
// ISTIO_MUTUAL other than on HTTPS or TLS, AUTO_PASSTHROUGH other than on TLS (such a server gets
// no listener). Gateway `credentialName`, OPTIONAL_MUTUAL, `caCrl`, ISTIO_MUTUAL (HTTPS, and TLS
// servers terminated then routed by `tcp` rules) and AUTO_PASSTHROUGH (TLS) work.
import type { Json, JsonObject, Resource } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";

export const notEnforcedCheck: Check = {
  name: "not-enforced",
  run(ctx: AnalysisContext): void {
    for (const r of ctx.ofKind("AuthorizationPolicy", "security.istio.io")) {
      const message = authorizationPolicy(r);
      if (message !== null) ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, [], message);
    }
    for (const r of ctx.ofKind("DestinationRule", "networking.istio.io")) {
      const spec = specOf(r.body);
      // Istio reads a DestinationRule's credentialName at gateways, and at sidecars only when the
      // rule has a workloadSelector; other sidecars get no TLS for the host (cluster_tls.go).
      if (obj(spec.workloadSelector) !== undefined) continue;
      for (const [path, tls] of destinationRuleTls(spec)) {
        const name = str(tls.credentialName);
        if (name === undefined || name === "" || (tls.mode !== "SIMPLE" && tls.mode !== "MUTUAL")) continue;
        ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, [...path, "credentialName"], `Partly applied: tls.credentialName is read by gateways only; without a workloadSelector, sidecars originate no TLS for this host (plain text), as in Istio.`);
      }
    }
    for (const r of ctx.ofKind("Gateway", "networking.istio.io")) {
      arr(specOf(r.body).servers).forEach((server, i) => {
        const tls = obj(obj(server)?.tls);
        if (tls === undefined) return;
        const mode = str(tls.mode) ?? "";
        const protocol = (str(obj(obj(server)?.port)?.protocol) ?? "").toUpperCase();
        // ISTIO_MUTUAL terminates on HTTPS and TLS servers, AUTO_PASSTHROUGH routes TLS servers by SNI.
        const why = mode === "ISTIO_MUTUAL" && protocol !== "HTTPS" && protocol !== "TLS" ? `tls.mode ISTIO_MUTUAL on a ${protocol || "no"} protocol server (HTTPS and TLS only)`
          : mode === "AUTO_PASSTHROUGH" && protocol !== "TLS" ? `tls.mode AUTO_PASSTHROUGH on a ${protocol || "no"} protocol server (TLS only)`
          : arr(tls.credentialNames).length > 0 && !str(tls.credentialName) ? "tls.credentialNames (use credentialName)" : null;
        if (why !== null) ctx.report(r, "warning", AnalyzerCodes.securityNotEnforced, ["spec", "servers", i, "tls"], `Accepted, not applied: ${why} is not supported on gateways yet, so this server gets no listener.`);
      });
    }
  },
};


/** Every tls block of a DestinationRule with its field path (traffic policy, port-level, subsets). */
function destinationRuleTls(spec: JsonObject): [(string | number)[], JsonObject][] {
  const out: [(string | number)[], JsonObject][] = [];
  const policy = (tp: Json | undefined, path: (string | number)[]): void => {
    const p = obj(tp);
    if (p === undefined) return;
    const tls = obj(p.tls);
    if (tls !== undefined) out.push([[...path, "tls"], tls]);
    arr(p.portLevelSettings).forEach((pl, i) => {
      const t = obj(obj(pl)?.tls);
      if (t !== undefined) out.push([[...path, "portLevelSettings", i, "tls"], t]);
    });
  };
  policy(spec.trafficPolicy, ["spec", "trafficPolicy"]);
  arr(spec.subsets).forEach((sub, i) => policy(obj(sub)?.trafficPolicy, ["spec", "subsets", i, "trafficPolicy"]));
  return out;
}

function authorizationPolicy(r: Resource): string | null {
  const spec = specOf(r.body);
  const action = str(spec.action) ?? "ALLOW";
  const unsupported = new Set<string>();
  for (const rule of arr(spec.rules)) {
    for (const c of arr(obj(rule)?.when)) {
      const key = str(obj(c)?.key) ?? "";
      if (key.startsWith("experimental.") || key === "connection.sni") unsupported.add(key);
    }
  }
  const parts: string[] = [];
  if (unsupported.size > 0) parts.push(`${[...unsupported].join(", ")} cannot be evaluated by Amime (${action === "DENY" ? "a DENY condition on it always applies" : action === "CUSTOM" ? "a CUSTOM condition on it always applies: the authorizer is asked" : "a condition on it never matches"})`);
  return parts.length === 0 ? null : `Partly enforced: ${parts.join("; ")}.`;
}
