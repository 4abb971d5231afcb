// VirtualService spec (networking.istio.io). Istio field names exactly; see ../networking.ts.
import type { Duration, Percent, PortSelector, StringMatch } from "./shared.ts";

export interface VirtualServiceSpec {
  hosts?: string[];
  gateways?: string[];
  http?: HTTPRoute[];
  tls?: TLSRoute[];
  tcp?: TCPRoute[];
  exportTo?: string[];
}

export interface Destination {
  host?: string;
  subset?: string;
  port?: PortSelector;
}

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: HTTPRouteDestination[];
  redirect?: HTTPRedirect;
  directResponse?: HTTPDirectResponse;
  delegate?: Delegate;
  rewrite?: HTTPRewrite;
  timeout?: Duration;
  retries?: HTTPRetry;
  fault?: HTTPFaultInjection;
  mirror?: Destination;
  mirrors?: HTTPMirrorPolicy[];
  /** @deprecated use mirrorPercentage */
  mirrorPercent?: number;
  mirrorPercentage?: Percent;
  corsPolicy?: CorsPolicy;
  headers?: Headers;
}

export interface Delegate {
  name?: string;
  namespace?: string;
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface Headers {
  request?: HeaderOperations;
  response?: HeaderOperations;
}

export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  queryParams?: Record<string, StringMatch>;
  ignoreUriCase?: boolean;
  withoutHeaders?: Record<string, StringMatch>;
  sourceNamespace?: string;
  statPrefix?: string;
}

export interface HTTPRouteDestination {
  destination?: Destination;
  /** Relative weight (weight / sum of weights). A single destination gets all traffic. */
  weight?: number;
  headers?: Headers;
}

export interface RouteDestination {
  destination?: Destination;
  weight?: number;
}

export interface L4MatchAttributes {
  destinationSubnets?: string[];
  port?: number;
  sourceSubnet?: string;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  sourceNamespace?: string;
}

export interface TLSMatchAttributes {
  sniHosts?: string[];
  destinationSubnets?: string[];
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  sourceNamespace?: string;
}

export interface TCPRoute {
  match?: L4MatchAttributes[];
  route?: RouteDestination[];
}

export interface TLSRoute {
  match?: TLSMatchAttributes[];
  route?: RouteDestination[];
}

export type RedirectPortSelection = "FROM_PROTOCOL_DEFAULT" | "FROM_REQUEST_PORT";

export interface HTTPRedirect {
  uri?: string;
  authority?: string;
  /** Exclusive with derivePort. */
  port?: number;
  derivePort?: RedirectPortSelection;
  scheme?: string;
  /** Default 301. */
  redirectCode?: number;
  prefixRewrite?: string;
}

export interface HTTPBody {
  string?: string;
  /** base64 in JSON/YAML. */
  bytes?: string;
}

export interface HTTPDirectResponse {
  status?: number;
  body?: HTTPBody;
}

export interface RegexRewrite {
  match?: string;
  rewrite?: string;
}

export interface HTTPRewrite {
  uri?: string;
  authority?: string;
  uriRegexRewrite?: RegexRewrite;
}

export interface HTTPRetry {
  /** 0 disables retries. */
  attempts?: number;
  perTryTimeout?: Duration;
  /** Comma list of Envoy retry conditions and/or numeric HTTP status codes. */
  retryOn?: string;
  retryRemoteLocalities?: boolean;
  retryIgnorePreviousHosts?: boolean;
  backoff?: Duration;
}

export type UnmatchedPreflights = "UNSPECIFIED" | "FORWARD" | "IGNORE";

export interface CorsPolicy {
  allowOrigins?: StringMatch[];
  /** @deprecated use allowOrigins */
  allowOrigin?: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: Duration;
  allowCredentials?: boolean;
  unmatchedPreflights?: UnmatchedPreflights;
}

export interface FaultDelay {
  fixedDelay?: Duration;
  /** Not supported by Istio ("exponentialDelay not supported yet"). */
  exponentialDelay?: Duration;
  percentage?: Percent;
  /** @deprecated integer 0..100; use percentage */
  percent?: number;
}

export interface FaultAbort {
  httpStatus?: number;
  /** gRPC status name, e.g. "UNAVAILABLE". */
  grpcStatus?: string;
  /** Not supported by Istio ("HTTP/2 abort fault injection not supported yet"). */
  http2Error?: string;
  percentage?: Percent;
}

export interface HTTPFaultInjection {
  delay?: FaultDelay;
  abort?: FaultAbort;
}

export interface HTTPMirrorPolicy {
  destination?: Destination;
  percentage?: Percent;
}
