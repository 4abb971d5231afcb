// ProxyConfig: everything one sidecar (or gateway) needs, as the control plane's translation
// produces it and as `amime proxy --config FILE` reads it. Pure data, JSON-serializable, Envoy's
// vocabulary: listener → route configuration → virtual host → route → cluster → endpoint.
//
// Durations are milliseconds (numbers). Percentages are 0..100 (doubles). Absent optional
// fields mean "Istio/Envoy default", already resolved by translation where it matters.
export type { AuthzRule, ExtAuthzConfig, ExtAuthzProvider, JwtAuthnConfig, JwtProvider, RbacConfig, RbacPolicy } from "./security-filters.ts";
import type { RouteRateLimits } from "./rate-limit.ts";

export interface ProxyConfig {
  /** Monotonic config version from the control plane ("static" for hand-written files). */
  version: string;
  node: NodeInfo;
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  /** Endpoints per cluster name (EDS). A cluster with no entry has no endpoints. */
  endpoints: Record<string, Endpoint[]>;
  /** Metrics listener, access log and tracing (absent: no telemetry at all). docs/observability.md */
  telemetry?: TelemetryConfig;
  /**
   * The mesh CA's deny list (absent: empty). The sidecar renews its own certificate when its
   * serial is listed; inbound mutual TLS refuses a client certificate whose serial or identity is
   * listed at the handshake, and closes open connections such a certificate authenticated when a
   * new list arrives. docs/security.md
   */
  revocations?: { serials: string[]; identities: string[] };
  /**
   * The mesh roots (PEM) this proxy trusts for mutual TLS and the control plane, as istiod's
   * ROOTCA: pushed so that a root rotation reaches every proxy (docs/security.md).
   */
  trustBundle?: string[];
  /** SHA-256 fingerprint of the root the CA signs under now: a certificate chaining elsewhere is renewed at once. */
  signingRoot?: string;
  /**
   * Envoy's overload manager knobs (Istio: MeshConfig defaultConfig.runtimeValues). docs/resilience.md
   * globalDownstreamMaxConnections: open downstream connections across all listeners, beyond which
   * new ones are closed at accept (`overload.global_downstream_max_connections`); absent = no limit.
   */
  overload?: { globalDownstreamMaxConnections?: number };
}

/** Which side of the proxy a telemetry setting applies to (Istio WorkloadMode). */
export type TelemetryMode = "CLIENT_AND_SERVER" | "CLIENT" | "SERVER";

export interface TelemetryConfig {
  /** Prometheus listener port serving /stats/prometheus; default 15090; 0 = any free port. */
  metricsPort?: number;
  /** Address of the metrics listener; default the node ip. */
  metricsAddress?: string;
  /** Istio metrics: per-metric overrides (Telemetry `metrics.overrides`, in order) and the series cap. */
  metrics?: { overrides?: MetricOverride[]; maxSeries?: number };
  accessLog?: AccessLogConfig;
  tracing?: TracingConfig;
  /** Where Istio's standard metrics are pushed besides the Prometheus endpoint (Telemetry `metrics.providers`). */
  metricsExport?: MetricsExportConfig[];
}

/** One metrics exporter: an `opentelemetry` (OTLP metrics) or `dogstatsd` provider. docs/observability.md */
/**
 * TLS to a telemetry collector, from the DestinationRule for its host (SIMPLE or MUTUAL), as
 * Istio's collector clusters get it: CA file (replaces the system's roots), client certificate
 * and key, the server name sent and verified (default the host), skip verification.
 */
export interface CollectorTlsConfig {
  caCertificates?: string;
  clientCertificate?: string;
  privateKey?: string;
  sni?: string;
  insecureSkipVerify?: boolean;
}

export interface MetricsExportConfig {
  kind: "otlp" | "dogstatsd";
  /** OTLP over HTTP: the URL (`http://host:4318/v1/metrics`); OTLP over gRPC and DogStatsD: `host:port`. */
  target: string;
  /** OTLP transport (default http: protobuf POSTs). */
  protocol?: "http" | "grpc";
  /** OTLP request headers (HTTP headers, or gRPC metadata: vendor auth); `envName` is read from the proxy's environment. */
  headers?: { name: string; value?: string; envName?: string }[];
  /** Per-export timeout in ms (default 5000). */
  timeoutMs?: number;
  /** DogStatsD: metric name prefix (Envoy's dog_statsd sink default `envoy`; "" for none). */
  prefix?: string;
  /** Reporting interval in ms (Telemetry `metrics[].reportingInterval`, default 15000). */
  intervalMs: number;
  /** OTLP: TLS to the collector (an https target, or a TLS gRPC channel). */
  tls?: CollectorTlsConfig;
}

/** Istio's standard metrics, by the Telemetry API's names (GRPC_*_MESSAGES are not produced). */
export type IstioMetricName =
  | "ALL_METRICS" | "REQUEST_COUNT" | "REQUEST_DURATION" | "REQUEST_SIZE" | "RESPONSE_SIZE"
  | "TCP_OPENED_CONNECTIONS" | "TCP_CLOSED_CONNECTIONS" | "TCP_SENT_BYTES" | "TCP_RECEIVED_BYTES"
  | "GRPC_REQUEST_MESSAGES" | "GRPC_RESPONSE_MESSAGES";

/**
 * One Telemetry `metrics.overrides` entry: for `metric` on the side(s) of `mode`, turn it off or
 * on, and edit its labels: `value` (a CEL expression, docs/observability.md) sets or adds a label,
 * `remove` drops it. Later overrides win.
 */
export interface MetricOverride {
  metric: IstioMetricName;
  mode?: TelemetryMode;
  disabled?: boolean;
  tags?: Record<string, { value: string } | { remove: true }>;
}

export interface AccessLogConfig {
  /** text: Istio's default line (or `textFormat`); json: one object per line. */
  format: "text" | "json";
  /** "/dev/stdout" (default), "/dev/stderr" or a file path (appended). */
  path: string;
  /** Envoy format string for text logs; default Istio's. */
  textFormat?: string;
  /** Send the log as OTLP logs over gRPC (Istio's envoyOtelAls) instead of writing `path`: the text line is each record's body. */
  otel?: { target: string; logName: string; attributes?: Record<string, unknown>; tls?: CollectorTlsConfig };
  /** Send the log to Fluentd / Fluent Bit over the Forward protocol (Amime's `fluentd` provider) instead of writing `path`. */
  fluentd?: { target: string; tag: string; /** label → Envoy format string: the record; absent = the JSON fields (json) or `{log: line}` (text). */ record?: Record<string, unknown> };
  /** JSON logs: label → Envoy format string (a provider's `logFormat.labels`); absent = the default JSON fields. */
  jsonLabels?: Record<string, unknown>;
  mode?: TelemetryMode;
  /** A CEL expression (the subset in model/cel/); a request is logged only when it gives true. */
  filter?: string;
}

export interface TracingConfig {
  /** Where spans go: a Zipkin v2 `/api/v2/spans` or OTLP/HTTP `/v1/traces` URL, or `http(s)://host:port` for OTLP/gRPC; absent = propagate only. */
  endpoint?: string;
  format: "zipkin" | "otlp";
  /** OTLP/HTTP body: `protobuf` (Istio's `opentelemetry` provider with `http`, as Envoy sends) or JSON (absent). */
  encoding?: "protobuf";
  /** Request headers for the collector (vendor auth); `envName` is read from the proxy's environment. */
  headers?: { name: string; value?: string; envName?: string }[];
  /** Per-POST timeout in ms (default 5000). */
  timeoutMs?: number;
  /** OTLP over gRPC (Istio's `opentelemetry` provider without `http`): TraceService/Export to the endpoint's host:port. */
  grpc?: boolean;
  /**
   * TLS to the collector (an https endpoint): from the DestinationRule for the provider's host
   * (SIMPLE or MUTUAL), as Istio's tracer cluster gets it. Absent on https: the system's roots.
   */
  tls?: CollectorTlsConfig;
  /** 0..100; Istio's default 1. */
  samplingPercentage: number;
  mode?: TelemetryMode;
  /** Span tags added to every span (Telemetry customTags): a literal, a request header or an environment variable of the proxy. */
  customTags?: Record<string, CustomTagConfig>;
  /** Tracing headers only, no spans. */
  disableSpanReporting?: boolean;
  /** Telemetry `useRequestIdForTraceSampling: false`: sample at random instead of by x-request-id. */
  randomSampling?: boolean;
  /** Telemetry `enableIstioTags: false`: spans without the istio.* tags. */
  noIstioTags?: boolean;
}

/** One Telemetry custom tag: a request header or environment variable falls back to `defaultValue`, else the tag is left out. */
export type CustomTagConfig = { literal: string } | { header: string; defaultValue?: string } | { environment: string; defaultValue?: string };

/** Who this proxy is: used for sourceLabels matching, metrics labels and identity. */
export interface NodeInfo {
  /** e.g. `sidecar~productpage-v1-0.default` */
  id: string;
  kind: "sidecar" | "gateway";
  workload: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** SPIFFE trust domain, default `cluster.local`. */
  trustDomain: string;
  /** The address peers use to reach this instance (loopback in the local mesh). */
  ip: string;
}

export type ListenerDirection = "outbound" | "inbound" | "gateway";

export interface Listener {
  name: string;
  direction: ListenerDirection;
  address: string;
  /** 0 = pick a free port (tests). */
  port: number;
  /**
   * http: HTTP/1.1 and HTTP/2 (h2c prior knowledge; ALPN h2 with `tls`). tcp: bytes to `tcpRoute`.
   * auto: protocol detection per connection (docs/protocols.md): h2c / HTTP/1.x → routeConfigName,
   * a TLS ClientHello or anything else (or nothing within the bound) → tcpRoute.
   */
  protocol: "http" | "tcp" | "auto";
  /** auto listeners: how long to wait for the client's first bytes; default 100. */
  protocolDetectionTimeoutMs?: number;
  /**
   * Open connections this listener accepts; past it new ones are closed at accept and counted
   * (Envoy's per-listener connection limit, `downstream_cx_overflow`). Absent = no limit.
   */
  connectionLimit?: number;
  /**
   * HTTP/1.1: a request head must be complete this long after its first byte, else 408 and the
   * connection closes (Envoy HCM `request_headers_timeout`, `downstream_rq_header_timeout`).
   * Absent or 0 = off.
   */
  requestHeadersTimeoutMs?: number;
  /** For http listeners: the RouteConfiguration to use. */
  routeConfigName?: string;
  /** For tcp listeners: where to send connections (weighted). */
  tcpRoute?: { clusters: WeightedCluster[]; idleTimeoutMs?: number };
  /**
   * For tcp listeners: TLS routes by SNI (VirtualService `tls`; passthrough, the proxy never
   * decrypts). The ClientHello's server name picks the first entry with a matching name (exact,
   * `*.suffix`, `*`); no match, no SNI or not TLS → tcpRoute. docs/protocols.md
   */
  sniRoutes?: SniRoute[];
  /**
   * Inbound listeners: the PeerAuthentication mode of the port (absent: PERMISSIVE, mTLS and
   * plaintext). STRICT: plaintext connections are closed; DISABLE: no mTLS termination. docs/security.md
   */
  mtls?: "STRICT" | "PERMISSIVE" | "DISABLE";
  /** TLS termination in front of an http listener (Gateway HTTPS servers) or a tcp one (Gateway TLS servers that do not pass through). docs/security.md */
  tls?: DownstreamTlsConfig;
  /**
   * x-forwarded-client-cert on http/auto listeners (Envoy's forward_client_cert_details and
   * set_current_client_cert_details). Absent: Istio's sidecar defaults — APPEND_FORWARD with
   * Subject, URI, DNS on inbound mTLS connections, removed everywhere else (SANITIZE). Gateways get
   * Istio's SANITIZE_SET with Subject, Cert, URI, DNS unless MeshConfig
   * `defaultConfig.gatewayTopology.forwardClientCertDetails` says otherwise. docs/security.md
   */
  xfcc?: ListenerXfcc;
  /**
   * For http and auto listeners: the ordered HTTP filters every request runs after the route
   * lookup (Envoy's http_filters), each by registered name with its config; the last is
   * "router". Absent: cors → fault → router. An unknown name rejects the config.
   */
  httpFilters?: HttpFilterConfig[];
  /**
   * For tcp listeners and the TCP side of auto listeners: the ordered network (L4) filters every
   * connection runs, by registered name with its config; the last is "tcp_proxy". Absent:
   * tcp_proxy alone. An unknown name rejects the config.
   */
  networkFilters?: HttpFilterConfig[];
}

/** One filter of a listener's list (HTTP or network). */
export interface HttpFilterConfig {
  name: string;
  config?: unknown;
}

/** One TLS route of a tcp listener: server names (SNI) → weighted clusters. */
export interface SniRoute {
  serverNames: string[];
  clusters: WeightedCluster[];
}

/** Envoy's forward_client_cert_details values (MeshConfig's ForwardClientCertDetails without UNDEFINED). */
export type ForwardClientCertDetails = "SANITIZE" | "FORWARD_ONLY" | "APPEND_FORWARD" | "SANITIZE_SET" | "ALWAYS_FORWARD_ONLY";

export interface ListenerXfcc {
  forward: ForwardClientCertDetails;
  /** The element's details for APPEND_FORWARD / SANITIZE_SET (By and Hash are always there). */
  details?: { subject?: boolean; cert?: boolean; uri?: boolean; dns?: boolean };
}

/** Server-side TLS of a listener: a certificate per server, chosen by SNI. */
export interface DownstreamTlsConfig {
  /** First entry whose hosts match the SNI wins (exact, then `*.suffix`, then `*`); no SNI or no match: the first. */
  servers: DownstreamTlsServer[];
  minProtocolVersion?: "TLSv1.2" | "TLSv1.3";
}

export interface DownstreamTlsServer {
  /** SNI names (Gateway server hosts without their namespace part). */
  hosts: string[];
  /**
   * SIMPLE: server certificate only; MUTUAL: clients must present a certificate signed by the CA;
   * OPTIONAL_MUTUAL: a client certificate is asked for, and verified when one is presented.
   * ISTIO_MUTUAL: the proxy's own workload certificate; clients must present a mesh certificate
   * (chained to the trust bundle, not on the deny list). No file or credential fields.
   */
  mode: "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL" | "ISTIO_MUTUAL";
  /** Certificate files (watched; new handshakes use a changed file). Either these or credentialName. */
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  /** A secret in the proxy's secret store (`--secret-dir`), looked up in the proxy's namespace. docs/security.md */
  credentialName?: string;
  /** CRL file (PEM): client certificates it lists are refused (MUTUAL, OPTIONAL_MUTUAL). */
  caCrl?: string;
  /** MUTUAL: the client certificate must carry one of these SANs (any when empty). */
  subjectAltNames?: string[];
}

export interface RouteConfiguration {
  name: string;
  virtualHosts: VirtualHost[];
}

export interface VirtualHost {
  /** e.g. `reviews.default.svc.cluster.local:9080` */
  name: string;
  /**
   * Host/:authority values that select this virtual host: exact names with or without port
   * (`reviews`, `reviews:9080`, `reviews.default.svc.cluster.local:9080`), leading wildcards
   * (`*.example.com`) and `*` for anything. Longest/most specific match wins, as in Envoy.
   */
  domains: string[];
  routes: Route[];
  /** CORS policy applying to routes without their own. */
  cors?: CorsPolicy;
}

export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

export interface HeaderMatcher {
  /** lowercase header name; `:authority`, `:method`, `:path`, `:scheme` are pseudo-headers. */
  name: string;
  /** Absent: the header must be present (any value). */
  match?: StringMatch;
  /** withoutHeaders: the match is negated. */
  invert: boolean;
  /**
   * Gateways: `@request.auth.claims.a.b` matches the claim at this path of the request's verified
   * JWT (jwt_authn), not a header; a list claim matches when one element does. docs/routing.md
   */
  claim?: string[];
}

export interface QueryParamMatcher {
  name: string;
  /** Absent: the parameter must be present. `{exact: ""}` matches `?key` with no value. */
  match?: StringMatch;
}

export interface RouteMatch {
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers: HeaderMatcher[];
  queryParams: QueryParamMatcher[];
  /** Destination port the request was sent to. */
  port?: number;
  /** Applies to exact and prefix uri matches. */
  ignoreUriCase: boolean;
}

/** Where a translated rule came from, for `amime explain`, logs and the dashboard. */
export interface RouteOrigin {
  /** `VirtualService default/reviews` or `default` for the implicit route. */
  resource: string;
  /** http[i] index in the VirtualService, -1 for generated routes. */
  ruleIndex: number;
  /** match[j] index within the rule, -1 when the rule has no match. */
  matchIndex: number;
  file?: string;
  line?: number;
}

export interface Route {
  /** HTTPRoute.name (+ "." + match name), used in logs and stats. */
  name: string;
  match: RouteMatch;
  action: RouteAction;
  /** Header edits on request/response, applied after the per-destination ones. */
  headers?: HeaderOperations;
  /**
   * Per-filter config overrides on this route, by HTTP filter name (Envoy's
   * typed_per_filter_config): the named filter runs with this config instead of the listener's.
   */
  filterConfig?: Readonly<Record<string, unknown>>;
  /** The `rate_limits` the global `ratelimit` filter builds descriptors from (model/rate-limit.ts). */
  rateLimits?: RouteRateLimits;
  origin: RouteOrigin;
}

export type RouteAction = ForwardAction | RedirectAction | DirectResponseAction;

export interface ForwardAction {
  kind: "forward";
  /** Relative weights; a single entry gets all traffic. */
  clusters: WeightedCluster[];
  /** 0 = no route timeout (Istio's default). Covers all retries. */
  timeoutMs: number;
  retry: RetryPolicy;
  fault?: FaultPolicy;
  mirrors: MirrorPolicy[];
  rewrite?: RewritePolicy;
  cors?: CorsPolicy;
}

export interface WeightedCluster {
  cluster: string;
  weight: number;
  headers?: HeaderOperations;
}

export interface RetryPolicy {
  /** Number of retries (not counting the first try). 0 disables. */
  attempts: number;
  /** 0 = same as the route timeout. */
  perTryTimeoutMs: number;
  /** Envoy retry_on tokens: 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, … and gRPC: cancelled, deadline-exceeded, internal, resource-exhausted, unavailable. */
  retryOn: string[];
  /** Numeric codes from retryOn (imply retriable-status-codes). */
  retriableStatusCodes: number[];
  /** Base interval for jittered exponential backoff (Envoy: 25 ms); max = 10× base. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Avoid hosts already tried (Istio default true). */
  retryIgnorePreviousHosts: boolean;
}

export interface FaultPolicy {
  delay?: { fixedDelayMs: number; percentage: number };
  abort?: { httpStatus?: number; grpcStatus?: string; percentage: number };
}

export interface MirrorPolicy {
  cluster: string;
  /** 0..100; Istio default 100. */
  percentage: number;
}

export interface RewritePolicy {
  /** Replaces the matched uri prefix (or the whole path for exact matches). */
  uri?: string;
  uriRegex?: { match: string; rewrite: string };
  authority?: string;
}

export interface RedirectAction {
  kind: "redirect";
  uri?: string;
  /** Replaces the matched prefix (Istio redirect prefixRewrite). */
  prefixRewrite?: string;
  authority?: string;
  port?: number;
  derivePort?: "FROM_PROTOCOL_DEFAULT" | "FROM_REQUEST_PORT";
  scheme?: string;
  /** Default 301. */
  code: number;
  headers?: HeaderOperations;
}

export interface DirectResponseAction {
  kind: "direct";
  status: number;
  body?: string;
}

export interface HeaderEdits {
  set: Record<string, string>;
  add: Record<string, string>;
  remove: string[];
}

export interface HeaderOperations {
  request?: HeaderEdits;
  response?: HeaderEdits;
}

export interface CorsPolicy {
  allowOrigins: StringMatch[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
  allowCredentials?: boolean;
  /** What to do with a preflight whose origin does not match: FORWARD (default) or IGNORE. */
  unmatchedPreflights: "FORWARD" | "IGNORE";
}

export type LbPolicy = "ROUND_ROBIN" | "RANDOM" | "LEAST_REQUEST" | "PASSTHROUGH" | "RING_HASH" | "MAGLEV";

export type HashKey =
  | { header: string }
  | { cookie: { name: string; path?: string; ttlMs?: number } }
  | { sourceIp: true }
  | { queryParameter: string };

export interface LoadBalancerConfig {
  policy: LbPolicy;
  /** For RING_HASH and MAGLEV. */
  hashKey?: HashKey;
  /** RING_HASH; Istio default 1024. */
  minimumRingSize?: number;
  /** MAGLEV; Istio/Envoy default 65537 (prime). */
  tableSize?: number;
}

export interface ConnectionPoolConfig {
  /** Defaults: effectively unlimited (2^32-1), as Istio. */
  maxConnections: number;
  connectTimeoutMs: number;
  maxPendingRequests: number;
  maxRequests: number;
  /** 0 = unlimited; 1 = no keep-alive. */
  maxRequestsPerConnection: number;
  maxRetries: number;
  /** 0 = none. */
  idleTimeoutMs: number;
  maxConnectionDurationMs: number;
  tcpKeepalive?: { probes?: number; timeMs?: number; intervalMs?: number };
}

export interface OutlierDetectionConfig {
  consecutive5xxErrors: number;
  consecutiveGatewayErrors: number;
  consecutiveLocalOriginFailures: number;
  splitExternalLocalOriginErrors: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}

export interface HealthCheckConfig {
  kind: "http" | "tcp";
  path?: string;
  /** Expected status ranges, inclusive; default [[200, 299]]. */
  expectedStatuses?: [number, number][];
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

export interface UpstreamTlsConfig {
  mode: "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL";
  sni?: string;
  /** Files (watched: the next connection uses a changed file). */
  caCertificates?: string;
  clientCertificate?: string;
  privateKey?: string;
  /** Instead of the files: a secret in the proxy's secret store (client certificate for MUTUAL, CA). docs/security.md */
  credentialName?: string;
  /** CRL file (PEM): a server certificate it lists fails the handshake. */
  caCrl?: string;
  subjectAltNames: string[];
  insecureSkipVerify: boolean;
}

export interface ServiceRef {
  /** FQDN, e.g. `reviews.default.svc.cluster.local`. */
  host: string;
  name: string;
  namespace: string;
  port: number;
}

export interface Cluster {
  /** Istio key: `outbound|9080|v2|reviews.default.svc.cluster.local`, `inbound|9080||`. */
  name: string;
  direction: "outbound" | "inbound";
  /** eds: endpoints from ProxyConfig.endpoints; original_dst: PASSTHROUGH to the requested address. */
  discovery: "eds" | "original_dst";
  service?: ServiceRef;
  subset?: string;
  /**
   * Upstream wire protocol for HTTP requests: http2 for http2/grpc ports and DestinationRule
   * `h2UpgradePolicy: UPGRADE` (HTTP/1.1 clients then reach the upstream over HTTP/2 too).
   */
  protocol: "http1" | "http2" | "tcp";
  /**
   * DestinationRule `connectionPool.http.useClientProtocol`: HTTP requests go upstream in the
   * protocol the client spoke (HTTP/1.1 or HTTP/2), whatever `protocol` says; gRPC stays HTTP/2.
   */
  useClientProtocol?: boolean;
  lb: LoadBalancerConfig;
  connectionPool: ConnectionPoolConfig;
  outlierDetection?: OutlierDetectionConfig;
  healthCheck?: HealthCheckConfig;
  tls?: UpstreamTlsConfig;
  /**
   * `tls` comes from auto mTLS (no DestinationRule tls): it applies only to endpoints labelled
   * `security.istio.io/tlsMode: istio` (Envoy's transport socket match, as Istio generates it);
   * the others get plaintext. docs/security.md
   */
  autoMtls?: boolean;
}

export interface Endpoint {
  address: string;
  port: number;
  /** Relative LB weight, default 1. */
  weight: number;
  labels: Record<string, string>;
  /** Registry health (readiness); the proxy's own outlier/health state is layered on top. */
  healthy: boolean;
  /** The workload the endpoint is a replica of (`reviews-v2`, not `reviews-v2-0`): Istio's `destination_workload`. */
  workload?: string;
  /** SPIFFE identity expected from this endpoint. */
  serviceAccount?: string;
  locality?: string;
}

/** Istio's endpoint label: `istio` on endpoints whose workload runs a sidecar that accepts mesh mTLS. */
export const TLS_MODE_LABEL = "security.istio.io/tlsMode";

/** The TLS a connection to this endpoint of the cluster originates: auto mTLS only toward tlsMode=istio endpoints. */
export function endpointTls(cluster: Pick<Cluster, "tls" | "autoMtls">, endpoint: Pick<Endpoint, "labels"> | undefined): UpstreamTlsConfig | undefined {
  const tls = cluster.tls;
  if (tls === undefined || cluster.autoMtls !== true) return tls;
  return endpoint?.labels[TLS_MODE_LABEL] === "istio" ? tls : undefined;
}

/** Istio's cluster key. */
export function clusterKey(direction: "outbound" | "inbound", port: number, subset: string, host: string): string {
  return `${direction}|${port}|${subset}|${host}`;
}

/** 2^32-1: Istio's "unlimited" for connection pool limits. */
export const UNLIMITED = 4294967295;

/** Istio defaults when a DestinationRule sets no connectionPool (istio/api ConnectionPoolSettings; docs/resilience.md). */
export const DEFAULT_CONNECTION_POOL: Readonly<ConnectionPoolConfig> = {
  maxConnections: UNLIMITED,
  connectTimeoutMs: 10_000,
  maxPendingRequests: UNLIMITED,
  maxRequests: UNLIMITED,
  maxRequestsPerConnection: 0,
  maxRetries: UNLIMITED,
  idleTimeoutMs: 3_600_000,
  maxConnectionDurationMs: 0,
};

/** Istio's mesh default retry policy when a route sets none. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  attempts: 2,
  perTryTimeoutMs: 0,
  retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
  retriableStatusCodes: [503],
  backoffBaseMs: 25,
  backoffMaxMs: 250,
  retryIgnorePreviousHosts: true,
};
