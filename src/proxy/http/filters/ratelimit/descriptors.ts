// The descriptors a request sends to the rate-limit service, built from the `rate_limits` of its
// route (or, when the route has none, of its virtual host: Envoy's default vh_rate_limits
// OVERRIDE) as Envoy's RateLimitPolicyEntry does: each entry of the filter's stage yields one
// descriptor, one entry per action; an action that yields nothing drops the whole descriptor,
// except a `request_headers` action with skip_if_absent, which is just left out. Pure.
import type { RateLimitAction, RateLimitPolicy, RouteRateLimits } from "../../../../model/rate-limit.ts";
import { compileConditions, type Condition } from "../../../router/route-conditions.ts";
import { MatchContext } from "../../../router/match-context.ts";
import { JWT_METADATA, type RequestView } from "../../../router/request-view.ts";
import type { RlsDescriptor } from "./rls-client.ts";

/** What descriptors are read from: the request's method, path, authority, headers, downstream address, peer identity. */
export type DescriptorSource = RequestView & { readonly peerPrincipal?: string };

/** The claim at `path` of the first verified token's payload, as text; undefined when absent or not a scalar. */
function claimOf(x: DescriptorSource, path: readonly string[]): string | undefined {
  const jwts = x.metadata?.get(JWT_METADATA) as readonly { payload: Record<string, unknown> }[] | undefined;
  let v: unknown = jwts?.[0]?.payload;
  for (const k of path) v = typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

/** Istio's source.principal: the peer's SPIFFE identity without `spiffe://`. */
function principalOf(x: DescriptorSource): string | undefined {
  const p = x.peerPrincipal;
  if (p === undefined || p === "") return undefined;
  return p.startsWith("spiffe://") ? p.slice(9) : p;
}

/** The policies that apply to a route: its own, else its virtual host's. */
export function policiesOf(r: RouteRateLimits | undefined): readonly RateLimitPolicy[] {
  if (r === undefined) return EMPTY;
  return r.route.length > 0 ? r.route : r.virtualHost;
}
const EMPTY: readonly RateLimitPolicy[] = [];

const compiled = new WeakMap<object, Condition[]>();
const matchCtx = new MatchContext();

function headersMatch(a: Extract<RateLimitAction, { kind: "header_value_match" }>, x: DescriptorSource): boolean {
  let conds = compiled.get(a);
  if (conds === undefined) {
    conds = compileConditions({ headers: a.headers, queryParams: [], ignoreUriCase: false });
    compiled.set(a, conds);
  }
  matchCtx.reset(x);
  try {
    for (const c of conds) if (!c.test(matchCtx)) return false;
    return true;
  } finally {
    matchCtx.reset(undefined);
  }
}

function pseudoOrHeader(x: DescriptorSource, name: string): string | undefined {
  switch (name) {
    case ":path":
      return x.path;
    case ":authority":
      return x.authority;
    case ":method":
      return x.method;
    case ":scheme":
      return x.scheme;
    default:
      return x.header(name);
  }
}

/** The descriptors for the policies of `stage`; empty when none applies (the service is not called). */
export function buildDescriptors(x: DescriptorSource, policies: readonly RateLimitPolicy[], stage: number, targetCluster: string): RlsDescriptor[] {
  const out: RlsDescriptor[] = [];
  for (const p of policies) {
    if (p.stage !== stage) continue;
    const entries: { key: string; value: string }[] = [];
    let ok = true;
    for (const a of p.actions) {
      switch (a.kind) {
        case "request_headers": {
          const v = pseudoOrHeader(x, a.headerName);
          if (v === undefined) ok = a.skipIfAbsent;
          else entries.push({ key: a.descriptorKey, value: v });
          break;
        }
        case "remote_address":
          if (x.sourceIp === "") ok = false;
          else entries.push({ key: "remote_address", value: x.sourceIp });
          break;
        case "generic_key":
          entries.push({ key: a.descriptorKey, value: a.descriptorValue });
          break;
        case "header_value_match":
          if (headersMatch(a, x) === a.expectMatch) entries.push({ key: a.descriptorKey, value: a.descriptorValue });
          else ok = false;
          break;
        case "destination_cluster":
          entries.push({ key: "destination_cluster", value: targetCluster });
          break;
        case "metadata": {
          const v = claimOf(x, a.path) ?? (a.defaultValue !== "" ? a.defaultValue : undefined);
          if (v === undefined) ok = a.skipIfAbsent;
          else entries.push({ key: a.descriptorKey, value: v });
          break;
        }
        case "source_principal": {
          const v = principalOf(x);
          if (v === undefined) ok = false;
          else entries.push({ key: a.descriptorKey, value: v });
          break;
        }
      }
      if (!ok) break;
    }
    if (ok && entries.length > 0) out.push(p.limit === undefined ? { entries } : { entries, limit: { requests_per_unit: p.limit.requestsPerUnit, unit: p.limit.unit } });
  }
  return out;
}
