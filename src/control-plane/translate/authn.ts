// RequestAuthentication → the `jwt_authn` HTTP filter, AuthorizationPolicy → the `rbac` filter (below) and,
// for CUSTOM, the `ext_authz` filter (ext-authz.ts), of a workload's inbound listeners and of a
// gateway's HTTP listeners (never the sidecar's outbound side), as Istio's policy_applier: the
// jwtRules of every policy that selects the proxy (root-namespace mesh-wide, namespace-wide,
// selector or targetRef(s)) merged and sorted by issuer. docs/security.md
import { parseDurationNanos } from "../../config/checks/duration.ts";
import type { JWTRule } from "../../model/specs/security.ts";
import type { HttpFilterConfig, JwtAuthnConfig, RbacConfig, RbacPolicy, JwtProvider } from "../../model/proxy-config.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import { cmp, type ProxyInput } from "./common.ts";
import { customPolicies } from "./ext-authz.ts";
import { policySelects } from "./policy-selection.ts";

/** Istio's default JWKS fetch timeout. */
const DEFAULT_TIMEOUT_MS = 5000;

/** The jwt_authn config for `node`, or undefined when no RequestAuthentication selects it. */
export function jwtAuthnConfig(snapshot: Snapshot, node: ProxyInput): JwtAuthnConfig | undefined {
  const rules: JWTRule[] = [];
  for (const entry of snapshot.requestAuthentications) {
    if (policySelects(snapshot, entry, node)) rules.push(...(entry.spec.jwtRules ?? []));
  }
  const providers = rules.filter((r) => typeof r.issuer === "string" && r.issuer !== "").map(provider);
  if (providers.length === 0) return undefined;
  providers.sort((a, b) => cmp(a.issuer, b.issuer));
  return { providers };
}

/** The security filters that go in front of an inbound or gateway listener's list for `node` (none when no policy selects it). */
export function securityFilters(snapshot: Snapshot, node: ProxyInput): HttpFilterConfig[] {
  const out: HttpFilterConfig[] = [];
  const jwt = jwtAuthnConfig(snapshot, node);
  if (jwt !== undefined) out.push({ name: "jwt_authn", config: jwt });
  // CUSTOM (ext-authz.ts): after jwt_authn, so CUSTOM rules and the authorizer see the verified token.
  const custom = customPolicies(snapshot, node);
  if (custom.extAuthz !== undefined) out.push({ name: "ext_authz", config: custom.extAuthz });
  const rbac = rbacConfig(snapshot, node, custom.deny);
  if (rbac !== undefined) out.push({ name: "rbac", config: rbac });
  return out;
}

/**
 * The rbac config for `node`: its ALLOW, DENY and AUDIT AuthorizationPolicies (CUSTOM ones go to
 * ext_authz; `extraDeny` are the fail-closed denials of bad CUSTOM ones), named as Istio names them
 * and sorted by name; undefined when none.
 */
export function rbacConfig(snapshot: Snapshot, node: ProxyInput, extraDeny: readonly RbacPolicy[] = []): RbacConfig | undefined {
  const policies: RbacPolicy[] = [...extraDeny];
  for (const entry of snapshot.authorizationPolicies) {
    const action = entry.spec.action ?? "ALLOW";
    if (action !== "ALLOW" && action !== "DENY" && action !== "AUDIT") continue;
    if (!policySelects(snapshot, entry, node)) continue;
    policies.push({
      name: `ns[${entry.namespace}]-policy[${entry.name}]`,
      namespace: entry.namespace,
      action,
      dryRun: entry.annotations?.["istio.io/dry-run"] === "true",
      rules: entry.spec.rules ?? [],
    });
  }
  if (policies.length === 0) return undefined;
  policies.sort((a, b) => cmp(a.name, b.name));
  const gateway = node.kind === "gateway";
  const topology = snapshot.mesh.config?.defaultConfig?.gatewayTopology as { numTrustedProxies?: unknown } | undefined;
  const hops = gateway && typeof topology?.numTrustedProxies === "number" ? topology.numTrustedProxies : 0;
  return { policies, useRemoteAddress: gateway, trustedHops: hops };
}

function provider(r: JWTRule): JwtProvider {
  const issuer = r.issuer as string;
  const uri = r.jwksUri ?? r.jwks_uri;
  const nanos = r.timeout !== undefined ? parseDurationNanos(r.timeout) : null;
  const keys: Pick<JwtProvider, "jwks" | "jwksUri"> = r.jwks !== undefined && r.jwks !== "" ? { jwks: r.jwks }
    : uri !== undefined && uri !== "" ? { jwksUri: uri }
    // No keys given: OpenID discovery at the issuer, as istiod does; an issuer that is not a URL
    // gets an empty key set, so its tokens fail (Istio fails closed the same way).
    : /^https?:\/\//.test(issuer) ? { jwksUri: `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration` }
    : { jwks: `{"keys":[]}` };
  return {
    issuer,
    audiences: [...(r.audiences ?? [])],
    ...keys,
    timeoutMs: nanos !== null && nanos > 0n ? Number(nanos / 1_000_000n) || 1 : DEFAULT_TIMEOUT_MS,
    fromHeaders: (r.fromHeaders ?? []).filter((h) => typeof h.name === "string" && h.name !== "").map((h) => ({ name: h.name as string, prefix: h.prefix ?? "" })),
    fromParams: [...(r.fromParams ?? [])],
    fromCookies: [...(r.fromCookies ?? [])],
    forwardOriginalToken: r.forwardOriginalToken === true,
    ...(r.outputPayloadToHeader ? { outputPayloadToHeader: r.outputPayloadToHeader } : {}),
    outputClaimToHeaders: (r.outputClaimToHeaders ?? []).filter((o) => o.header && o.claim).map((o) => ({ header: o.header as string, claim: o.claim as string })),
    required: r.presence === "REQUIRED",
  };
}
