// Typed model of Istio's networking.istio.io specs (istio/api networking/v1alpha3, served as v1,
// v1beta1 and v1alpha3). Field names are Istio's exact camelCase JSON names, so a validated spec can
// be cast to these types. Every field is optional because YAML may omit it; "required" is enforced
// by the validators in kinds/, not by the types. Durations stay strings ("1.5s"); use
// parseDuration() from defaults.ts to read them. Enums are string unions of the proto names.

/** Protobuf Duration in JSON/YAML form: "10s", "1.5s", "100ms"; Go style "1m30s" is accepted too. */
export type Duration = string;

// ───────────────────────── shared ─────────────────────────

/** Exactly one of exact / prefix / regex (RE2, must match the whole value). */
export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

/** `{value: 0..100}` (a double). */
export interface Percent {
  value?: number;
}

export interface PortSelector {
  number?: number;
}

/** istio.type.v1beta1.WorkloadSelector (DestinationRule, security and telemetry kinds). */
export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

/** networking.v1alpha3.WorkloadSelector (ServiceEntry, Sidecar): note `labels`, not `matchLabels`. */
export interface NetworkingWorkloadSelector {
  labels?: Record<string, string>;
}

// ───────────────────────── VirtualService ─────────────────────────

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

// ───────────────────────── DestinationRule ─────────────────────────

export interface DestinationRuleSpec {
  host?: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
  workloadSelector?: WorkloadSelector;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
  portLevelSettings?: PortTrafficPolicy[];
  tunnel?: TunnelSettings;
  proxyProtocol?: ProxyProtocol;
  retryBudget?: RetryBudget;
}

export interface PortTrafficPolicy {
  port?: PortSelector;
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
}

export interface TunnelSettings {
  /** CONNECT (default) or POST. */
  protocol?: string;
  targetHost?: string;
  targetPort?: number;
}

export interface ProxyProtocol {
  version?: "V1" | "V2";
}

export interface RetryBudget {
  /** Default 20. */
  percent?: number;
  /** Default 3. */
  minRetryConcurrency?: number;
}

export interface Subset {
  name?: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export type SimpleLB = "UNSPECIFIED" | "LEAST_CONN" | "RANDOM" | "PASSTHROUGH" | "ROUND_ROBIN" | "LEAST_REQUEST";

export interface HTTPCookie {
  name?: string;
  path?: string;
  ttl?: Duration;
  attributes?: { name?: string; value?: string }[];
}

export interface RingHash {
  /** Default 1024. */
  minimumRingSize?: number;
}

export interface MagLev {
  /** Prime, below 5000011; default 65537. */
  tableSize?: number;
}

export interface ConsistentHashLB {
  httpHeaderName?: string;
  httpCookie?: HTTPCookie;
  useSourceIp?: boolean;
  httpQueryParameterName?: string;
  ringHash?: RingHash;
  maglev?: MagLev;
  /** @deprecated use ringHash.minimumRingSize */
  minimumRingSize?: number;
}

export interface LocalityDistribute {
  from?: string;
  to?: Record<string, number>;
}

export interface LocalityFailover {
  from?: string;
  to?: string;
}

export interface LocalityLoadBalancerSetting {
  distribute?: LocalityDistribute[];
  failover?: LocalityFailover[];
  failoverPriority?: string[];
  enabled?: boolean;
}

export interface ZoneAwareLbSetting {
  enabled?: boolean;
  failover?: LocalityFailover[];
  failoverPriority?: string[];
  /** Default 6. */
  minClusterSize?: number;
}

export interface WarmupConfiguration {
  duration?: Duration;
  /** Percent{value}; 0..100, default 10. */
  minimumPercent?: number | Percent;
  /** >0, default 1.0. */
  aggression?: number | { value?: number };
}

export interface LoadBalancerSettings {
  simple?: SimpleLB;
  consistentHash?: ConsistentHashLB;
  localityLbSetting?: LocalityLoadBalancerSetting;
  zoneAwareLbSetting?: ZoneAwareLbSetting;
  /** @deprecated use warmup */
  warmupDurationSecs?: Duration;
  warmup?: WarmupConfiguration;
}

export interface TcpKeepalive {
  probes?: number;
  time?: Duration;
  interval?: Duration;
}

export interface TCPSettings {
  maxConnections?: number;
  connectTimeout?: Duration;
  tcpKeepalive?: TcpKeepalive;
  maxConnectionDuration?: Duration;
  idleTimeout?: Duration;
}

export type H2UpgradePolicy = "DEFAULT" | "DO_NOT_UPGRADE" | "UPGRADE";

export interface HTTP2KeepAlive {
  interval?: Duration;
  timeout?: Duration;
}

export interface HTTPSettings {
  http1MaxPendingRequests?: number;
  http2MaxRequests?: number;
  maxRequestsPerConnection?: number;
  maxRetries?: number;
  idleTimeout?: Duration;
  h2UpgradePolicy?: H2UpgradePolicy;
  useClientProtocol?: boolean;
  maxConcurrentStreams?: number;
  http2KeepAlive?: HTTP2KeepAlive;
}

export interface ConnectionPoolSettings {
  tcp?: TCPSettings;
  http?: HTTPSettings;
}

export interface OutlierDetection {
  /** @deprecated use consecutive5xxErrors */
  consecutiveErrors?: number;
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailures?: number;
  consecutiveGatewayErrors?: number;
  consecutive5xxErrors?: number;
  interval?: Duration;
  baseEjectionTime?: Duration;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}

export type ClientTLSMode = "DISABLE" | "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL";

export interface ClientTLSSettings {
  mode?: ClientTLSMode;
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  credentialName?: string;
  subjectAltNames?: string[];
  sni?: string;
  insecureSkipVerify?: boolean;
  caCrl?: string;
}

// ───────────────────────── ServiceEntry ─────────────────────────

export type ServiceEntryLocation = "MESH_EXTERNAL" | "MESH_INTERNAL";
export type ServiceEntryResolution = "NONE" | "STATIC" | "DNS" | "DNS_ROUND_ROBIN";

/** A Port as used by ServiceEntry and Gateway. */
export interface Port {
  number?: number;
  /** HTTP | HTTPS | GRPC | GRPC-WEB | HTTP2 | MONGO | TCP | TLS | … (case-insensitive). */
  protocol?: string;
  name?: string;
  targetPort?: number;
}

export interface ServiceEntrySpec {
  hosts?: string[];
  addresses?: string[];
  ports?: Port[];
  location?: ServiceEntryLocation;
  resolution?: ServiceEntryResolution;
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: NetworkingWorkloadSelector;
  exportTo?: string[];
  subjectAltNames?: string[];
}

// ───────────────────────── WorkloadEntry ─────────────────────────

export interface WorkloadEntrySpec {
  address?: string;
  /** Port name → port number. */
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
}

// ───────────────────────── Gateway ─────────────────────────

export interface GatewaySpec {
  servers?: Server[];
  selector?: Record<string, string>;
}

export interface Server {
  port?: Port;
  bind?: string;
  hosts?: string[];
  tls?: ServerTLSSettings;
  defaultEndpoint?: string;
  name?: string;
}

export type ServerTLSMode = "PASSTHROUGH" | "SIMPLE" | "MUTUAL" | "AUTO_PASSTHROUGH" | "ISTIO_MUTUAL" | "OPTIONAL_MUTUAL";
export type TLSProtocol = "TLS_AUTO" | "TLSV1_0" | "TLSV1_1" | "TLSV1_2" | "TLSV1_3";

export interface ServerTLSSettings {
  httpsRedirect?: boolean;
  mode?: ServerTLSMode;
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  caCrl?: string;
  credentialName?: string;
  credentialNames?: string[];
  subjectAltNames?: string[];
  verifyCertificateSpki?: string[];
  verifyCertificateHash?: string[];
  minProtocolVersion?: TLSProtocol;
  maxProtocolVersion?: TLSProtocol;
  cipherSuites?: string[];
}

// ───────────────────────── Sidecar ─────────────────────────

export type CaptureMode = "DEFAULT" | "IPTABLES" | "NONE";

export interface SidecarPort {
  number?: number;
  protocol?: string;
  name?: string;
  targetPort?: number;
}

export interface IstioIngressListener {
  port?: SidecarPort;
  bind?: string;
  captureMode?: CaptureMode;
  defaultEndpoint?: string;
  tls?: ServerTLSSettings;
  connectionPool?: ConnectionPoolSettings;
}

export interface IstioEgressListener {
  port?: SidecarPort;
  bind?: string;
  captureMode?: CaptureMode;
  /** `namespace/dnsName`; `./x`, `*\/x`, `~/x`. */
  hosts?: string[];
}

export interface OutboundTrafficPolicy {
  mode?: "REGISTRY_ONLY" | "ALLOW_ANY";
  egressProxy?: Destination;
}

export interface SidecarSpec {
  workloadSelector?: NetworkingWorkloadSelector;
  ingress?: IstioIngressListener[];
  egress?: IstioEgressListener[];
  inboundConnectionPool?: ConnectionPoolSettings;
  outboundTrafficPolicy?: OutboundTrafficPolicy;
}
