// Typed model of Istio's security.istio.io specs (istio/api security/v1beta1, served as v1 and
// v1beta1). Field names are Istio's camelCase JSON names, so a validated spec can be cast to these
// types. Every field is optional because YAML may omit it; required fields are enforced by the
// validators in config/kinds/. Enums are string unions of the proto names.
import type { WorkloadSelector } from "./networking.ts";

export type { WorkloadSelector };

/** Names the resource a policy attaches to (instead of a selector). Same namespace only. */
export interface PolicyTargetReference {
  /** "" (core) for Service, networking.istio.io for ServiceEntry, gateway.networking.k8s.io for Gateway. */
  group?: string;
  kind?: string;
  name?: string;
  /** Must be empty: cross-namespace references are not supported. */
  namespace?: string;
}

/** The three ways a policy picks its workloads; at most one may be set. None = whole namespace. */
export interface PolicyTargets {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
}

// ───────────────────────── PeerAuthentication ─────────────────────────

/** UNSET inherits from the parent scope (namespace, then mesh); the mesh default is PERMISSIVE. */
export type MutualTLSMode = "UNSET" | "DISABLE" | "PERMISSIVE" | "STRICT";

export interface MutualTLS {
  mode?: MutualTLSMode;
}

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  mtls?: MutualTLS;
  /** Keyed by the workload (container) port as a string, e.g. "8080"; needs a selector. */
  portLevelMtls?: Record<string, MutualTLS>;
}

// ───────────────────────── RequestAuthentication ─────────────────────────

export interface JWTHeader {
  name?: string;
  /** Stripped from the header value before the token is decoded, e.g. "Bearer ". */
  prefix?: string;
}

export interface ClaimToHeader {
  header?: string;
  claim?: string;
}

/** REQUIRED rejects requests without a token of this rule (default: a missing token is let through). */
export type JWTPresence = "OPTIONAL" | "REQUIRED";

export interface JWTRule {
  issuer?: string;
  audiences?: string[];
  jwksUri?: string;
  /** @deprecated snake_case alias of jwksUri accepted by the CRD. */
  jwks_uri?: string;
  /** Inline JSON Web Key Set. */
  jwks?: string;
  /** Default: `Authorization: Bearer <token>` and the `access_token` query parameter. */
  fromHeaders?: JWTHeader[];
  fromParams?: string[];
  fromCookies?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: ClaimToHeader[];
  /** Timeout for fetching the JWKS; Duration string. */
  timeout?: string;
  spaceDelimitedClaims?: string[];
  presence?: JWTPresence;
}

export interface RequestAuthenticationSpec extends PolicyTargets {
  jwtRules?: JWTRule[];
}

// ───────────────────────── AuthorizationPolicy ─────────────────────────

/** ALLOW (default), DENY, AUDIT, or CUSTOM (delegated to `provider`). */
export type AuthorizationAction = "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  /** `namespace/serviceAccount` or just `serviceAccount` (this namespace). Not with namespaces/principals. */
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  /** Trust domain of the peer's SPIFFE identity, e.g. "cluster.local"; globs like principals. */
  trustDomains?: string[];
  notTrustDomains?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  /** Port numbers as strings. */
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  /** Exact, `prefix*`, `*suffix`, `*`, or templates with `{*}` / `{**}` segments. */
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  /** An Istio attribute, e.g. `request.headers[x-user]`, `source.ip`, `request.auth.claims[groups]`. */
  key?: string;
  values?: string[];
  notValues?: string[];
}

export interface Rule {
  from?: { source?: Source }[];
  to?: { operation?: Operation }[];
  when?: Condition[];
}

export interface AuthorizationPolicySpec extends PolicyTargets {
  action?: AuthorizationAction;
  /** Only with action CUSTOM: the extension provider that decides. */
  provider?: { name?: string };
  /** No rules: ALLOW matches nothing (deny all), DENY/CUSTOM are rejected as meaningless. */
  rules?: Rule[];
}
