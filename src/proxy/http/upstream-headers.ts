// The header edits of one destination (route + weighted cluster), compiled once per destination:
// names to drop as a precompiled set for the codec, lines to append. Values with `%…%` escapes
// depend on the request and are planned per request instead.
import type { Route, WeightedCluster } from "../../model/proxy-config.ts";
import { checkHeaderLines, compileHeaderNames, type HeaderLineWriter } from "../http1/index.ts";
import type { HeaderNameSet } from "../http1/types.ts";
import type { Exchange } from "./exchange.ts";
import { XFCC_HEADER, xfccHeaderValue } from "../detect/xfcc.ts";
import { requestHeaderPlan, responseHeaderPlan, type HeaderList, type HeaderValueContext } from "../router/index.ts";

export interface DestinationHeaders {
  readonly requestDrop: HeaderNameSet;
  readonly requestAdd: HeaderList;
  /** requestAdd as header lines, checked once (SerializeRequestOptions.lines). */
  readonly requestAddLines: string;
  /** A `host` / `:authority` set by the edits: the Host the upstream sees. */
  readonly host: string | undefined;
  /** Always drops the response headers the proxy sets itself (PROXY_SET_RESPONSE). */
  readonly responseDrop: HeaderNameSet;
  readonly responseAdd: HeaderList;
  /** responseAdd as header lines, checked once. */
  readonly responseAddLines: string;
}

/**
 * Request headers the proxy always rewrites itself. x-forwarded-client-cert: removed, then put
 * back as the connection's plan says (detect/xfcc.ts: forwarded, appended to or set).
 */
const PROXY_SET_REQUEST = ["x-forwarded-for", "x-envoy-attempt-count", XFCC_HEADER];

/**
 * Response headers the proxy always sets itself: Envoy's router replaces the upstream's
 * x-envoy-upstream-service-time (set, not append), so a request through two sidecars carries one.
 */
export const UPSTREAM_SERVICE_TIME = "x-envoy-upstream-service-time";
export const PROXY_SET_RESPONSE: readonly string[] = [UPSTREAM_SERVICE_TIME];

const cache = new WeakMap<WeightedCluster, DestinationHeaders>();

// The last destination found in the cache, compared before the WeakMap's hashing (requests
// repeat a few destinations).
let lastWc: WeightedCluster | null = null;
let lastDh: DestinationHeaders | null = null;

/** The compiled edits of a destination whose values do not depend on the request, if compiled already. */
export function cachedDestinationHeaders(wc: WeightedCluster): DestinationHeaders | undefined {
  if (wc === lastWc) return lastDh as DestinationHeaders;
  const hit = cache.get(wc);
  if (hit !== undefined) {
    lastWc = wc;
    lastDh = hit;
  }
  return hit;
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
    requestAddLines: checkHeaderLines(requestAdd),
    host,
    responseDrop: compileHeaderNames([...PROXY_SET_RESPONSE, ...res.dropped]),
    responseAdd: res.added,
    responseAddLines: checkHeaderLines(res.added),
  };
  if (!dynamic) cache.set(wc, out);
  return out;
}

function hasEscapes(ops: unknown): boolean {
  return ops !== undefined && JSON.stringify(ops).includes("%");
}

// The constant pieces of those lines, as bytes (HeaderLineWriter.putAll).
const REQUEST_ID_NAME = Buffer.from("x-request-id: ", "latin1");
const XFF_NAME = Buffer.from("x-forwarded-for: ", "latin1");
const XFP_HTTPS_LINE = Buffer.from("x-forwarded-proto: https\r\n", "latin1");
const XFP_HTTP_LINE = Buffer.from("x-forwarded-proto: http\r\n", "latin1");

/**
 * The same proxy headers as header lines into the upstream head's writer: every value is already
 * valid (a generated hex id, a request header the parser checked, the peer's IP, a constant
 * scheme), so the per-request character check is skipped.
 */
export function writeRequestExtraLines(w: HeaderLineWriter, x: Exchange): void {
  if (x.requestIdGenerated) w.putAll(REQUEST_ID_NAME).put(x.requestId).crlf();
  const xff = x.head.get("x-forwarded-for");
  w.putAll(XFF_NAME);
  if (xff !== undefined && xff !== "") w.put(xff).put(", ");
  w.put(x.sourceIp).crlf();
  if (!x.head.has("x-forwarded-proto")) w.putAll(x.scheme === "https" ? XFP_HTTPS_LINE : XFP_HTTP_LINE);
  const plan = x.conn.xfcc;
  if (plan !== null) {
    const v = xfccHeaderValue(plan, x.head.get(XFCC_HEADER));
    if (v !== undefined) w.line("x-forwarded-client-cert: ", v);
  }
}

/** Proxy headers for the upstream request (x-request-id, x-forwarded-*) . */
export function requestExtra(x: Exchange): [string, string][] {
  const extra: [string, string][] = [];
  if (x.requestIdGenerated) extra.push(["x-request-id", x.requestId]);
  const xff = x.head.get("x-forwarded-for");
  const ip = x.sourceIp;
  extra.push(["x-forwarded-for", xff === undefined || xff === "" ? ip : `${xff}, ${ip}`]);
  if (!x.head.has("x-forwarded-proto")) extra.push(["x-forwarded-proto", x.scheme]);
  const plan = x.conn.xfcc;
  if (plan !== null) {
    const v = xfccHeaderValue(plan, x.head.get(XFCC_HEADER));
    if (v !== undefined) extra.push([XFCC_HEADER, v]);
  }
  return extra;
}
