// The configs of the security HTTP filters as ProxyConfig carries them (listener `httpFilters`
// entries and route overrides): `rbac` (AuthorizationPolicy) and `jwt_authn` (RequestAuthentication).
// Pure data, JSON-serializable; re-exported by proxy-config.ts. docs/security.md
import type { Rule } from "./specs/security.ts";

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

/**
 * The `ext_authz` filter's config: the CUSTOM AuthorizationPolicies of one provider that select a
 * workload (their rules decide *whether* the provider is asked) and the provider, resolved to a
 * cluster (MeshConfig extensionProviders envoyExtAuthzHttp / envoyExtAuthzGrpc). docs/security.md
 */
export interface ExtAuthzConfig {
  /**
   * The CUSTOM policies, named `istio-ext-authz-<provider>-ns[<ns>]-policy[<name>]` and sorted by
   * name; action DENY, as Istio builds them (a match means: ask the provider), so HTTP-only fields
   * are dropped on TCP instead of dropping the rule.
   */
  policies: RbacPolicy[];
  useRemoteAddress: boolean;
  trustedHops: number;
  provider: ExtAuthzProvider;
}

export interface ExtAuthzProvider {
  /** The MeshConfig extension provider's name. */
  name: string;
  protocol: "http" | "grpc";
  /** The provider service's cluster, `outbound|<port>||<host>`. */
  cluster: string;
  /** `host:port` of the service (the HTTP check's Host when the request has none). */
  authority: string;
  /** Istio's default when unset: 600 s. */
  timeoutMs: number;
  /** Envoy failure_mode_allow: an unreachable, slow or 5xx-answering authorizer lets requests through. */
  failOpen: boolean;
  /** Status of the local reply when the check fails and failOpen is false (Envoy default 403). */
  statusOnError: number;
  /** includeRequestBodyInCheck: the body (up to maxRequestBytes) goes with the check. */
  withBody?: { maxRequestBytes: number; allowPartialMessage: boolean; packAsBytes: boolean };
  /** HTTP provider only: prepended to the request's path in the check request. */
  pathPrefix: string;
  /** HTTP provider only: request headers sent with the check (exact, `x*` prefix, `*x` suffix; lower-case). */
  includeRequestHeaders: string[];
  /** HTTP provider only: extra headers sent with the check. */
  includeAdditionalHeaders: { name: string; value: string }[];
  /** HTTP provider only: authorizer response headers copied onto the upstream request when allowed. */
  headersToUpstreamOnAllow: string[];
  /** HTTP provider only: authorizer response headers sent to the client when denied (empty: all). */
  headersToDownstreamOnDeny: string[];
  /** HTTP provider only: authorizer response headers added to the client's response when allowed. */
  headersToDownstreamOnAllow: string[];
}
