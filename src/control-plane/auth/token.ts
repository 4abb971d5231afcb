// Credentials the control plane issues and checks: one signed token format for the admin (the
// CLI) and for proxies (one per sidecar start, bound to its node id, namespace and service
// account). A token is `amime1.<claims>.<mac>`: base64url JSON claims and their HMAC-SHA256 under
// the mesh's token key (state-dir.ts). Signed rather than looked up, so a restarted control plane
// with the same state dir still knows the tokens its proxies hold. See docs/control-plane.md.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface AdminPrincipal {
  kind: "admin";
  /** Who holds the credential (the OS user that created it), recorded with every change. */
  name: string;
}

export interface ProxyPrincipal {
  kind: "proxy";
  /** The only node id this credential may subscribe and ACK as. */
  node: string;
  namespace: string;
  serviceAccount: string;
  /** The credential's unique id (set when it is verified): the CA lets each one bootstrap once. */
  jti?: string;
  /**
   * A Kubernetes service-account token (reviewed by the API server, not signed by us): it may act
   * as the node of its pod (`<kind>~<pod>.<namespace>`) when bound to one, else as any pod of its
   * namespace that runs as its service account (mayActAs). No jti: such a token may ask for
   * certificates again (a restarted sidecar re-reads its token), as with istiod.
   */
  kubernetes?: { pod?: string };
}

/**
 * A workload proven by its current certificate (mTLS client certificate chained to the mesh
 * roots): may only renew that certificate (docs/security.md, "Renewals").
 */
export interface WorkloadPrincipal {
  kind: "workload";
  identity: string;
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
  /** Lower-case hex serial of the certificate that authenticated the request. */
  serial: string;
}

export type Principal = AdminPrincipal | ProxyPrincipal | WorkloadPrincipal;

interface Claims {
  v: 1;
  /** Issued at, ms since the epoch. */
  iat: number;
  /** Unique id: a newer proxy token for the same node supersedes older ones (CredentialIssuer). */
  jti: string;
  p: Principal;
}

const PREFIX = "amime1";

/** How a principal appears in logs and change records: `admin:alice`, `proxy:sidecar~x.default`. */
export function principalName(p: Principal): string {
  return p.kind === "admin" ? `admin:${p.name}` : p.kind === "proxy" ? `proxy:${p.node}` : `workload:${p.identity}`;
}

export class TokenSigner {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new Error("token key must be at least 32 bytes");
    this.#key = key;
  }

  static generateKey(): Buffer {
    return randomBytes(32);
  }

  sign(p: Principal, iat: number, jti = randomBytes(12).toString("base64url")): { token: string; jti: string } {
    const claims: Claims = { v: 1, iat, jti, p };
    const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return { token: `${PREFIX}.${body}.${this.#mac(body)}`, jti };
  }

  /** The claims of a well-formed token with a valid MAC, else null. */
  verify(token: string): { principal: Principal; iat: number; jti: string } | null {
    const parts = token.split(".");
    if (parts.length !== 3 || parts[0] !== PREFIX) return null;
    const [, body, mac] = parts as [string, string, string];
    const want = Buffer.from(this.#mac(body));
    const got = Buffer.from(mac);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Claims;
    } catch {
      return null;
    }
    if (claims?.v !== 1 || !isPrincipal(claims.p) || typeof claims.jti !== "string" || typeof claims.iat !== "number") return null;
    return { principal: claims.p, iat: claims.iat, jti: claims.jti };
  }

  #mac(body: string): string {
    return createHmac("sha256", this.#key).update(`${PREFIX}.${body}`).digest("base64url");
  }
}

/**
 * Whether a proxy credential may subscribe and ACK as `node`; a reason when not. `podAccount`
 * names the service account of a pod the control plane knows (Kubernetes tokens not bound to a pod).
 */
export function mayActAs(p: ProxyPrincipal, node: string, podAccount: (namespace: string, name: string) => string | undefined): string | null {
  if (p.kubernetes === undefined) return p.node === node ? null : `it belongs to ${p.node}`;
  const tilde = node.indexOf("~");
  const rest = node.slice(tilde + 1);
  const dot = rest.lastIndexOf(".");
  const name = dot > 0 ? rest.slice(0, dot) : "";
  const namespace = dot > 0 ? rest.slice(dot + 1) : "";
  if (tilde <= 0 || name === "") return "a Kubernetes token acts only as a node <kind>~<pod>.<namespace>";
  if (namespace !== p.namespace) return `the token is of namespace ${p.namespace}, the node of ${namespace}`;
  if (p.kubernetes.pod !== undefined) return name === p.kubernetes.pod ? null : `the token is bound to pod ${p.namespace}/${p.kubernetes.pod}`;
  const account = podAccount(namespace, name);
  if (account === undefined) return `no pod ${namespace}/${name} is known to run as service account ${p.serviceAccount}`;
  return account === p.serviceAccount ? null : `pod ${namespace}/${name} runs as service account ${account}, the token is of ${p.serviceAccount}`;
}

function isPrincipal(p: unknown): p is Principal {
  if (typeof p !== "object" || p === null) return false;
  const o = p as Record<string, unknown>;
  if (o.kind === "admin") return typeof o.name === "string";
  return o.kind === "proxy" && typeof o.node === "string" && typeof o.namespace === "string" && typeof o.serviceAccount === "string";
}
