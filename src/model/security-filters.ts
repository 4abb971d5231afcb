// The configs of the security HTTP filters as ProxyConfig carries them (listener `httpFilters`
// entries and route overrides): `rbac` (AuthorizationPolicy) and `jwt_authn` (RequestAuthentication).
// Pure data, JSON-serializable; re-exported by proxy-config.ts. docs/security.md
import type { Rule } from "../config/types/security.ts";

/** The `rbac` filter's config: the AuthorizationPolicies (ALLOW, DENY, AUDIT) that select one workload. docs/security.md */
export interface RbacConfig {
  /** Sorted by name (Envoy evaluates policies in name order). */
  policies: RbacPolicy[];
  /**
   * How remote.ip / remoteIpBlocks find the client: sidecars (useRemoteAddress false) take the
   * last X-Forwarded-For entry (the (N+1)th from the right with N trusted hops); gateways
   * (true) take the peer, or the Nth entry from the right with N = gatewayTopology.numTrustedProxies.
   */
  useRemoteAddress: boolean;
  trustedHops: number;
}

export interface RbacPolicy {
  /** `ns[<ns>]-policy[<name>]`. */
  name: string;
  /** The policy's namespace (for `serviceAccounts: [sa]`). */
  namespace: string;
  action: "ALLOW" | "DENY" | "AUDIT";
  /** `istio.io/dry-run: "true"`: evaluated, counted, never enforced. */
  dryRun: boolean;
  /** Istio's rules as written; none: the policy matches nothing. */
  rules: AuthzRule[];
}

export type AuthzRule = Rule;

/** The `jwt_authn` filter's config: RequestAuthentication jwtRules merged for one workload. docs/security.md */
export interface JwtAuthnConfig {
  providers: JwtProvider[];
}

/** One jwtRule (Envoy's JwtProvider). */
export interface JwtProvider {
  issuer: string;
  /** Empty: the audience is not checked. */
  audiences: string[];
  /** Inline JWKS (JSON text), or */
  jwks?: string;
  /** a JWKS URL the sidecar fetches (cached 5 min, refetched on an unknown kid). */
  jwksUri?: string;
  /** JWKS fetch timeout; Istio's default 5 s. */
  timeoutMs: number;
  /** Where the token may be; all three empty means `Authorization: Bearer …`, then `?access_token=`. */
  fromHeaders: { name: string; prefix: string }[];
  fromParams: string[];
  fromCookies: string[];
  forwardOriginalToken: boolean;
  outputPayloadToHeader?: string;
  outputClaimToHeaders: { header: string; claim: string }[];
  /** `presence: REQUIRED`: a request without this issuer's token gets 401 `Jwt is missing`. */
  required: boolean;
}
