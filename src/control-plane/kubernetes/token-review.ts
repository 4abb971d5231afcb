// Sidecars on Kubernetes authenticate with the projected service-account token of their
// `istio-token` volume (audience `istio-ca`), as Istio's agents do; the control plane asks the API
// server whether it is valid with a TokenReview (authentication.k8s.io/v1, audiences [istio-ca]),
// as istiod's KubeJWTAuthenticator. The reviewed user `system:serviceaccount:<ns>:<sa>` is the
// caller's identity; a token bound to a pod names it in the review's extra fields. Reviews are
// cached by the token's SHA-256 until the earlier of its expiry and REVIEW_CACHE_MS (a token of a
// deleted pod stops working within that), at most MAX_CACHED entries; refusals the API server
// answered for DENIAL_CACHE_MS, at most MAX_DENIALS entries of their own (so a stream of bad tokens
// costs one review each per DENIAL_CACHE_MS and evicts no accepted one). An API server that could
// not be asked is not cached. See docs/kubernetes.md.
import { createHash } from "node:crypto";
import type { ProxyPrincipal } from "../auth/token.ts";
import type { KubeConnection } from "./kube-config.ts";
import { postJson } from "./reflector.ts";

/** The audience Istio's sidecars ask their token for, and istiod requires. */
export const ISTIO_CA_AUDIENCE = "istio-ca";
export const REVIEW_CACHE_MS = 60_000;
export const DENIAL_CACHE_MS = 10_000;
const MAX_CACHED = 10_000;
const MAX_DENIALS = 1_000;
const POD_NAME = "authentication.kubernetes.io/pod-name";
const POD_UID = "authentication.kubernetes.io/pod-uid";
const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** Who a reviewed token belongs to. */
export interface ReviewedToken {
  namespace: string;
  serviceAccount: string;
  /** Set when the token is bound to a pod (a projected volume's token always is). */
  pod?: { name: string; uid: string };
}

/** The token is not one the control plane accepts (layer: control plane, Kubernetes platform). */
export class TokenReviewError extends Error {
  readonly code = "CP_TOKEN_REVIEW";
  constructor(message: string) {
    super(message);
    this.name = "TokenReviewError";
  }
}

interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; extra?: Record<string, string[]> };
}

export class TokenReviewer {
  readonly #conn: KubeConnection;
  readonly #now: () => number;
  readonly #accepted: ExpiringCache<ReviewedToken>;
  readonly #refused: ExpiringCache<TokenReviewError>;

  constructor(conn: KubeConnection, now: () => number, limits: { maxAccepted?: number; maxRefused?: number } = {}) {
    this.#conn = conn;
    this.#now = now;
    this.#accepted = new ExpiringCache(limits.maxAccepted ?? MAX_CACHED);
    this.#refused = new ExpiringCache(limits.maxRefused ?? MAX_DENIALS);
  }

  /** How many accepted and refused reviews are cached now. */
  get cached(): { accepted: number; refused: number } {
    return { accepted: this.#accepted.size, refused: this.#refused.size };
  }

  /** The token's owner; rejects with a TokenReviewError saying why it is refused. */
  async review(token: string): Promise<ReviewedToken> {
    const key = createHash("sha256").update(token).digest("base64url");
    const now = this.#now();
    const accepted = this.#accepted.get(key, now);
    if (accepted !== undefined) return accepted;
    const refused = this.#refused.get(key, now);
    if (refused !== undefined) throw refused;
    let status: TokenReviewStatus;
    try {
      const answer = (await postJson(this.#conn, "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, audiences: [ISTIO_CA_AUDIENCE] },
      })) as { status?: TokenReviewStatus };
      status = answer.status ?? {};
    } catch (e) {
      throw new TokenReviewError(`cannot review the token with the Kubernetes API server: ${(e as Error).message}`);
    }
    let who: ReviewedToken;
    try {
      who = reviewed(status);
    } catch (e) {
      if (e instanceof TokenReviewError) this.#refused.set(key, e, now + DENIAL_CACHE_MS, now);
      throw e;
    }
    this.#accepted.set(key, who, Math.min(now + REVIEW_CACHE_MS, expiryOf(token) ?? Infinity), now);
    return who;
  }
}

/** Values kept until a time, at most `max`: when full, the expired ones go, else the oldest. */
class ExpiringCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, now: number): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.until > now) return e.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, until: number, now: number): void {
    if (until <= now) return;
    if (this.#entries.size >= this.#max) {
      for (const [k, v] of this.#entries) if (v.until <= now) this.#entries.delete(k);
      // Map order is insertion order: the first key is the oldest.
      if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
    }
    this.#entries.set(key, { value, until });
  }
}

/** The owner named by an answered review, or why it is refused. */
export function reviewed(status: TokenReviewStatus): ReviewedToken {
  if (status.authenticated !== true) throw new TokenReviewError(`the Kubernetes API server refused the token: ${status.error || "not authenticated"}`);
  if (!(status.audiences ?? []).includes(ISTIO_CA_AUDIENCE)) throw new TokenReviewError(`the token is not for audience ${ISTIO_CA_AUDIENCE} (reviewed audiences: ${(status.audiences ?? []).join(", ") || "none"})`);
  const user = status.user?.username ?? "";
  const m = SERVICE_ACCOUNT_USER.exec(user);
  if (m === null) throw new TokenReviewError(`the token belongs to ${JSON.stringify(user)}, not a service account (system:serviceaccount:<namespace>:<name>)`);
  const who: ReviewedToken = { namespace: m[1] as string, serviceAccount: m[2] as string };
  const pod = status.user?.extra?.[POD_NAME]?.[0];
  if (pod !== undefined) who.pod = { name: pod, uid: status.user?.extra?.[POD_UID]?.[0] ?? "" };
  return who;
}

/** `exp` of a JWT in ms (read only after the API server vouched for the token); undefined if absent. */
function expiryOf(token: string): number | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A reviewed token as a proxy credential: a pod-bound one acts as its pod's sidecar
 * (`sidecar~<pod>.<namespace>`, what the CA records its certificates under), else as any pod of
 * its namespace running as its service account (auth/token.ts, mayActAs).
 */
export function proxyPrincipalOf(who: ReviewedToken): ProxyPrincipal {
  const node = who.pod !== undefined ? `sidecar~${who.pod.name}.${who.namespace}` : `serviceaccount~${who.serviceAccount}.${who.namespace}`;
  return { kind: "proxy", node, namespace: who.namespace, serviceAccount: who.serviceAccount, kubernetes: who.pod !== undefined ? { pod: who.pod.name } : {} };
}
