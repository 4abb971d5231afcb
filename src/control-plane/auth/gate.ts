// RequestGate: what every request to the control plane passes before any handler runs.
// 1. Same-site: the Host header must name the control plane itself (a DNS-rebinding page sends
//    its own domain name), and a browser's cross-site request (an Origin other than our own, or
//    Sec-Fetch-Site cross-site/same-site) is refused, so no web page can drive the API (CSRF).
// 2. Authentication: `Authorization: Bearer <token>` (credentials.ts), except for the few public
//    paths (health, the Zipkin span intake that tracers post to without credentials, and the
//    dashboard's login page and static files). A browser signed in to the dashboard sends its
//    session cookie instead (sessions.ts): it may read (GET) and use the dashboard's own POST
//    endpoints (dry-run, explain), never change config.
//    A certificate request may instead be authenticated by the workload's current certificate,
//    presented as the TLS client certificate and verified against the mesh roots (a renewal).
//    With --platform kubernetes, a bearer token that is not ours (a pod's projected
//    service-account token) is a proxy credential if the API server's TokenReview vouches for it
//    (the verdict is then asynchronous: `{review}`). Through the API server's service proxy, which
//    removes Authorization, our own credential may come as `X-Amime-Token` instead.
// 3. Authorization by kind: a proxy may only use the push stream, ACKs (only as its own node:
//    checked by those handlers) and the CA; a certificate only renews itself; everything else
//    is the admin's.
import type { ServerResponse } from "node:http";
import { isIP } from "node:net";
import type { CredentialIssuer } from "./credentials.ts";
import { cookieValue, SESSION_COOKIE } from "./sessions.ts";
import type { Principal, ProxyPrincipal, WorkloadPrincipal } from "./token.ts";

/** The TLS connection a request came on (node:tls TLSSocket's part the gate reads). */
export interface PeerConnection {
  /** The client certificate chains to the server's `ca` (the mesh roots). */
  readonly authorized: boolean;
  getPeerCertificate(): { subjectaltname?: string; serialNumber?: string } | null;
}

/** The path a workload's current certificate may call: its own renewal. */
const RENEWAL_PATH = "/ca/v1/certificates";
const SPIFFE_URI = /^URI:spiffe:\/\/([^/\s,]+)\/ns\/([^/\s,]+)\/sa\/([^/\s,]+)$/;

export interface Refusal {
  status: number;
  code: "CP_FOREIGN_HOST" | "CP_CROSS_SITE" | "CP_UNAUTHENTICATED" | "CP_FORBIDDEN";
  message: string;
}

export interface GateRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export type GateVerdict = { principal: Principal | null } | { refusal: Refusal };
/** A verdict, or one that waits for the API server's review of a Kubernetes token. */
export type GateResult = GateVerdict | { review: Promise<GateVerdict> };

/** Paths a proxy credential may use (the push protocol and its workload certificate). */
const PROXY_PATHS = new Set(["/xds/v1/stream", "/xds/v1/ack", "/ca/v1/certificates"]);

export interface RequestGateOptions {
  issuer: CredentialIssuer;
  /** The address the server listens on (127.0.0.1, ::, 0.0.0.0, or a name). */
  listenHost: string;
  port: () => number;
  /** Extra host names the control plane is reached by (e.g. a DNS name in front of 0.0.0.0). */
  allowedHosts?: readonly string[];
  /** Dashboard sessions (sessions.ts); without it the session cookie is not read. */
  sessions?: { verify(id: string): Principal | null };
  /**
   * With --platform kubernetes: the proxy a token that is not ours belongs to (a TokenReview);
   * rejects with the reason it is refused.
   */
  reviewToken?: (token: string) => Promise<ProxyPrincipal>;
}

const OWN_TOKEN_PREFIX = "amime1.";

export class RequestGate {
  readonly #o: RequestGateOptions;
  readonly #names: Set<string>;
  readonly #wildcard: boolean;

  constructor(o: RequestGateOptions) {
    this.#o = o;
    const listen = bare(o.listenHost);
    this.#wildcard = listen === "0.0.0.0" || listen === "::";
    this.#names = new Set([listen, "localhost", "127.0.0.1", "::1", ...(o.allowedHosts ?? []).map((h) => bare(h))]);
  }

  check(req: GateRequest, peer?: PeerConnection): GateResult {
    const host = one(req.headers.host);
    // A Kubernetes API server's service proxy keeps the client's Host (its own address); a request
    // it forwards carries our credential as X-Amime-Token, a header no web page can send to us
    // (a cross-origin custom header needs a CORS preflight, which this server never grants), so the
    // rebinding guard, which protects ambient credentials (the dashboard's cookie), is not needed.
    const forwarded = one(req.headers["x-amime-token"]);
    if (forwarded === undefined && !this.#hostAllowed(host)) {
      return refuse(403, "CP_FOREIGN_HOST", `Host ${JSON.stringify(host ?? "")} is not this control plane's address; refused (DNS rebinding guard)`);
    }
    const origin = one(req.headers.origin);
    if (origin !== undefined && origin !== `https://${host}`) {
      return refuse(403, "CP_CROSS_SITE", `cross-site request from Origin ${JSON.stringify(origin)} refused`);
    }
    const site = one(req.headers["sec-fetch-site"]);
    if (site !== undefined && site !== "same-origin" && site !== "none") {
      return refuse(403, "CP_CROSS_SITE", `cross-site request (Sec-Fetch-Site: ${site}) refused`);
    }
    if (isPublic(req.method, req.path)) return { principal: null };
    // Through a Kubernetes API server's service proxy (which removes Authorization), our own
    // credential comes as X-Amime-Token (cli/lib/kube-control-plane.ts).
    if (forwarded !== undefined) {
      const principal = forwarded.startsWith(OWN_TOKEN_PREFIX) ? this.#o.issuer.verify(forwarded.trim()) : null;
      return principal === null ? refuse(401, "CP_UNAUTHENTICATED", "invalid or superseded credential (X-Amime-Token)") : authorize(req, principal);
    }
    const auth = one(req.headers.authorization);
    if (auth === undefined && req.method === "POST" && req.path === RENEWAL_PATH && peer !== undefined) {
      const workload = workloadOf(peer);
      if (workload !== null) return { principal: workload };
    }
    const session = auth === undefined ? cookieValue(one(req.headers.cookie), SESSION_COOKIE) : undefined;
    if (session !== undefined && this.#o.sessions !== undefined) return this.#sessionCheck(req, session);
    const m = auth === undefined ? null : /^Bearer +(\S+)\s*$/i.exec(auth);
    if (m === null) return refuse(401, "CP_UNAUTHENTICATED", "missing credential: send Authorization: Bearer <token> (the CLI reads it from .amime/admin-token; see docs/control-plane.md)");
    const token = m[1] as string;
    const review = this.#o.reviewToken;
    if (review !== undefined && !token.startsWith(OWN_TOKEN_PREFIX)) {
      return {
        review: review(token).then(
          (principal) => authorize(req, principal),
          (e: unknown) => refuse(401, "CP_UNAUTHENTICATED", `Kubernetes service-account token refused: ${(e as Error).message}`),
        ),
      };
    }
    const principal = this.#o.issuer.verify(token);
    if (principal === null) return refuse(401, "CP_UNAUTHENTICATED", "invalid or superseded credential");
    return authorize(req, principal);
  }

  #sessionCheck(req: GateRequest, id: string): GateResult {
    const principal = this.#o.sessions?.verify(id) ?? null;
    if (principal === null) return refuse(401, "CP_UNAUTHENTICATED", "dashboard session expired or unknown: sign in again (amime dashboard)");
    if (PROXY_PATHS.has(req.path)) return refuse(403, "CP_FORBIDDEN", `${req.path} takes a proxy's own credential`);
    if (req.method !== "GET" && req.method !== "HEAD" && !req.path.startsWith("/dashboard/api/")) {
      return refuse(403, "CP_FORBIDDEN", `a dashboard session may not ${req.method} ${req.path}; changes take the admin credential (amime apply)`);
    }
    return { principal };
  }

  #hostAllowed(host: string | undefined): boolean {
    if (host === undefined) return false;
    let url: URL;
    try {
      url = new URL(`https://${host}`);
    } catch {
      return false;
    }
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) return false;
    if ((url.port === "" ? 443 : Number(url.port)) !== this.#o.port()) return false;
    const name = bare(url.hostname);
    // An IP literal cannot be re-pointed by DNS; on a wildcard listener any of our addresses may be used.
    return this.#names.has(name) || (this.#wildcard && isIP(name) !== 0);
  }
}

/** What a bearer credential may use: a proxy only the proxy paths, the admin everything else. */
function authorize(req: GateRequest, principal: Principal): GateVerdict {
  if (principal.kind === "proxy" && !PROXY_PATHS.has(req.path)) return refuse(403, "CP_FORBIDDEN", `a proxy credential may not ${req.method} ${req.path}`);
  if (principal.kind === "admin" && PROXY_PATHS.has(req.path)) return refuse(403, "CP_FORBIDDEN", `${req.path} takes a proxy's own credential, not the admin's`);
  return { principal };
}

/** The SPIFFE identity of a verified client certificate; null without one. */
export function workloadOf(peer: PeerConnection): WorkloadPrincipal | null {
  if (!peer.authorized) return null;
  const cert = peer.getPeerCertificate();
  const sans = (cert?.subjectaltname ?? "").split(", ").filter((s) => s.startsWith("URI:"));
  const m = sans.length === 1 ? SPIFFE_URI.exec(sans[0] as string) : null;
  if (m === null || !cert?.serialNumber) return null;
  const [, trustDomain, namespace, serviceAccount] = m as unknown as [string, string, string, string];
  return { kind: "workload", identity: (sans[0] as string).slice(4), trustDomain, namespace, serviceAccount, serial: cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, "") };
}

function isPublic(method: string, path: string): boolean {
  if (method === "GET" && (path === "/healthz" || path === "/ready")) return true;
  // The dashboard's sign-in page and its static files (no data; the UI's API calls need a credential).
  if (path === "/dashboard/login" && (method === "GET" || method === "POST")) return true;
  if (method === "GET" && (path.startsWith("/dashboard/assets/") || path.startsWith("/dashboard/vendor/"))) return true;
  // Zipkin's span intake: sidecars' tracers post to any Zipkin URL and carry no credentials;
  // spans add telemetry and cannot change the mesh.
  return method === "POST" && path === "/api/v2/spans";
}

function refuse(status: number, code: Refusal["code"], message: string): { refusal: Refusal } {
  return { refusal: { status, code, message } };
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `[::1]` → `::1`; lower case. */
function bare(h: string): string {
  const l = h.toLowerCase();
  return l.startsWith("[") && l.endsWith("]") ? l.slice(1, -1) : l;
}

/**
 * Answer a refused request: JSON with the code, and a Bearer challenge on 401; a browser opening a
 * dashboard page without a session is sent to the sign-in page instead.
 */
export function sendRefusal(res: ServerResponse, r: Refusal, method: string, path: string): void {
  if (r.status === 401 && method === "GET" && (path === "/dashboard" || path === "/dashboard/")) {
    res.writeHead(303, { location: "/dashboard/login", "cache-control": "no-store" });
    res.end();
    return;
  }
  const body = JSON.stringify({ error: r.message, code: r.code });
  res.writeHead(r.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...(r.status === 401 ? { "www-authenticate": 'Bearer realm="amime"' } : {}) });
  res.end(body);
}
