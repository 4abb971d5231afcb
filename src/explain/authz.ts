// The authorization part of `amime explain`: what the destination workload's inbound `jwt_authn`
// and `rbac` filters would decide for the request, from that workload's pushed config. Tokens are
// decoded, not verified (the sidecar checks the signature). The caller's identity is its SPIFFE
// id when the request goes over ISTIO_MUTUAL (the caller's certificate), else none, as on the wire.
import { decodeJwt } from "jose";
import type { ProxyConfig } from "../model/proxy-config.ts";
import { compileRbac, decide, decideShadow, audited, type Verdict } from "../proxy/http/filters/rbac/decide.ts";
import type { AuthzAttributes } from "../proxy/http/filters/rbac/matcher.ts";
import { remoteIp } from "../proxy/http/filters/rbac/rbac-filter.ts";
import type { ExplainRequest } from "./request.ts";

export interface AuthzView {
  /** The destination proxy's node id. */
  node: string;
  listener: string;
  /** The caller's mTLS identity used (`td/ns/x/sa/y`), "" for plaintext. */
  sourcePrincipal: string;
  /** The token's `<iss>/<sub>` when the request carries one the listener reads (not verified here). */
  requestPrincipal?: string;
  /** null: no AuthorizationPolicy selects the workload (no rbac filter: allowed). */
  verdict: Verdict | null;
  shadow: Verdict | null;
  audited: string[];
  summary: string;
}

/** The decision at `dest`'s inbound listener on `port` for `request` from `sourceIp`; null when no such listener. */
export function explainAuthz(dest: ProxyConfig, port: number, request: ExplainRequest, sourceIp: string, sourcePrincipal = ""): AuthzView | null {
  const listener = dest.listeners.find((l) => l.direction === "inbound" && l.port === port && l.protocol !== "tcp");
  if (listener === undefined) return null;
  const filters = listener.httpFilters ?? [];
  const jwt = filters.some((f) => f.name === "jwt_authn") ? bearerPrincipal(request.headers.authorization) : null;
  const view: AuthzView = { node: dest.node.id, listener: listener.name, sourcePrincipal, verdict: null, shadow: null, audited: [], summary: "" };
  if (jwt !== null) view.requestPrincipal = jwt.principal;
  const rbacConfig = filters.find((f) => f.name === "rbac")?.config;
  if (rbacConfig === undefined) {
    view.summary = "allowed: no AuthorizationPolicy selects this workload";
    return view;
  }
  const c = compileRbac(rbacConfig as Parameters<typeof compileRbac>[0]);
  const q = request.path.indexOf("?");
  const a: AuthzAttributes = {
    method: request.method,
    path: q < 0 ? request.path : request.path.slice(0, q),
    authority: request.headers.host ?? request.authority,
    header: (name) => request.headers[name],
    sourceIp,
    remoteIp: remoteIp(sourceIp, request.headers["x-forwarded-for"], c.useRemoteAddress, c.trustedHops),
    destinationIp: listener.address,
    destinationPort: port,
    principal: sourcePrincipal,
    sni: "",
    jwts: jwt === null ? null : [jwt],
  };
  view.verdict = decide(c, a);
  view.shadow = decideShadow(c, a);
  view.audited = audited(c, a);
  const v = view.verdict;
  view.summary = v.allowed
    ? v.policy === "" ? "allowed: no ALLOW policy applies and no DENY policy matches" : `allowed by ${v.policy} rule ${v.rule}`
    : v.policy === "none" ? "denied (403 RBAC: access denied): ALLOW policies apply and none matches" : `denied (403 RBAC: access denied) by ${v.policy} rule ${v.rule}`;
  return view;
}

export function bearerPrincipal(authorization: string | undefined): { principal: string; payload: Record<string, unknown> } | null {
  const m = authorization === undefined ? null : /Bearer\s+([A-Za-z0-9\-_.]+)/.exec(authorization);
  if (m === null) return null;
  try {
    const payload = decodeJwt(m[1] as string);
    return { principal: `${String(payload.iss ?? "")}/${String(payload.sub ?? "")}`, payload };
  } catch {
    return null;
  }
}
