// The header edits of one destination (route + weighted cluster), compiled once per destination:
// names to drop as a precompiled set for the codec, lines to append. Values with `%…%` escapes
// depend on the request and are planned per request instead.
import type { Route, WeightedCluster } from "../../model/proxy-config.ts";
import { compileHeaderNames } from "../http1/index.ts";
import type { HeaderNameSet } from "../http1/types.ts";
import type { Exchange } from "./exchange.ts";
import { requestHeaderPlan, responseHeaderPlan, type HeaderList, type HeaderValueContext } from "../router/index.ts";

export interface DestinationHeaders {
  readonly requestDrop: HeaderNameSet;
  readonly requestAdd: HeaderList;
  /** A `host` / `:authority` set by the edits: the Host the upstream sees. */
  readonly host: string | undefined;
  readonly responseDrop: HeaderNameSet | undefined;
  readonly responseAdd: HeaderList;
}

/** Request headers the proxy always rewrites itself. */
const PROXY_SET_REQUEST = ["x-forwarded-for", "x-envoy-attempt-count"];

const cache = new WeakMap<WeightedCluster, DestinationHeaders>();

/** The compiled edits of a destination whose values do not depend on the request, if compiled already. */
export function cachedDestinationHeaders(wc: WeightedCluster): DestinationHeaders | undefined {
  return cache.get(wc);
}

export function destinationHeaders(route: Route, wc: WeightedCluster, ctx: HeaderValueContext): DestinationHeaders {
  const hit = cache.get(wc);
  if (hit !== undefined) return hit;
  const dynamic = hasEscapes(route.headers) || hasEscapes(wc.headers);
  const req = requestHeaderPlan(route, wc, ctx);
  const res = responseHeaderPlan(route, wc, ctx);
  let host: string | undefined;
  const requestAdd: HeaderList = [];
  for (const h of req.added) {
    if (h[0] === "host") host = h[1];
    else requestAdd.push(h);
  }
  const out: DestinationHeaders = {
    requestDrop: compileHeaderNames([...PROXY_SET_REQUEST, ...req.dropped]),
    requestAdd,
    host,
    responseDrop: res.dropped.size > 0 ? compileHeaderNames([...res.dropped]) : undefined,
    responseAdd: res.added,
  };
  if (!dynamic) cache.set(wc, out);
  return out;
}

function hasEscapes(ops: unknown): boolean {
  return ops !== undefined && JSON.stringify(ops).includes("%");
}

/** Proxy headers for the upstream request (x-request-id, x-forwarded-*) . */
export function requestExtra(x: Exchange): [string, string][] {
  const extra: [string, string][] = [];
  if (x.requestIdGenerated) extra.push(["x-request-id", x.requestId]);
  const xff = x.head.get("x-forwarded-for");
  const ip = x.sourceIp;
  extra.push(["x-forwarded-for", xff === undefined || xff === "" ? ip : `${xff}, ${ip}`]);
  if (!x.head.has("x-forwarded-proto")) extra.push(["x-forwarded-proto", x.scheme]);
  return extra;
}
