// Typed model of Istio's MeshConfig (istio/api mesh/v1alpha1/config.proto) and of the ProxyConfig
// it carries as `defaultConfig` (mesh/v1alpha1/proxy.proto): the YAML under the `mesh` key of the
// `istio` ConfigMap. Field names are Istio's camelCase JSON names. Every field is optional; the
// validator in config/mesh-config/ enforces types and Istio's rules, and lists which fields Amime
// applies. Durations stay strings ("10s").

/** One of MeshConfig.extensionProviders: a name and exactly one provider body. */
export interface ExtensionProvider {
  name: string;
  envoyExtAuthzHttp?: ExtAuthzHttpProvider;
  envoyExtAuthzGrpc?: ExtAuthzGrpcProvider;
  zipkin?: ZipkinProvider;
  lightstep?: ServicePortProvider & { accessToken?: string; maxTagLength?: number };
  datadog?: ServicePortProvider & { maxTagLength?: number };
  stackdriver?: Record<string, unknown>;
  opencensus?: ServicePortProvider & { maxTagLength?: number; context?: string[] };
  skywalking?: ServicePortProvider & { accessToken?: string };
  opentelemetry?: OpenTelemetryProvider;
  prometheus?: Record<string, never>;
  envoyFileAccessLog?: { path?: string; logFormat?: LogFormat };
  envoyHttpAls?: AlsProvider;
  envoyTcpAls?: AlsProvider;
  envoyOtelAls?: ServicePortProvider & { logName?: string; logFormat?: LogFormat };
  sds?: { name?: string };
  /** Amime: Istio's standard metrics as DogStatsD lines over UDP to a Datadog agent (Envoy's dog_statsd sink). */
  dogstatsd?: ServicePortProvider & { prefix?: string };
  /** Amime: access logs to Fluentd / Fluent Bit over the Forward protocol (Envoy's fluentd access logger). */
  fluentd?: ServicePortProvider & { tag?: string; logFormat?: LogFormat };
}

export interface ServicePortProvider {
  /** `host`, `namespace/host`, or an IP. */
  service?: string;
  port?: number;
}

export interface ZipkinProvider extends ServicePortProvider {
  maxTagLength?: number;
  enable64bitTraceId?: boolean;
  traceContextOption?: "USE_B3" | "USE_B3_WITH_W3C_PROPAGATION";
  timeout?: string;
  /** Istio 1.25+: the collector path (default `/api/v2/spans`). */
  path?: string;
  /** Amime: a full URL instead of service/port/path (used by `amime up --zipkin`). */
  endpoint?: string;
}

export interface OpenTelemetryProvider extends ServicePortProvider {
  maxTagLength?: number;
  /** OTLP/HTTP; without `http` Istio exports OTLP/gRPC. */
  http?: { path?: string; timeout?: string; headers?: unknown[] };
  grpc?: { timeout?: string; initialMetadata?: unknown[] };
  resourceDetectors?: Record<string, unknown>;
  dynatraceSampler?: Record<string, unknown>;
  /** Amime: a full OTLP/HTTP URL instead of service/port/http.path (used by `amime up --otlp`). */
  endpoint?: string;
}

export interface LogFormat {
  text?: string;
  labels?: Record<string, unknown>;
}

export interface AlsProvider extends ServicePortProvider {
  logName?: string;
  filterStateObjectsToLog?: string[];
  additionalRequestHeadersToLog?: string[];
  additionalResponseHeadersToLog?: string[];
  additionalResponseTrailersToLog?: string[];
}

export interface ExtAuthzHttpProvider extends ServicePortProvider {
  timeout?: string;
  pathPrefix?: string;
  failOpen?: boolean;
  statusOnError?: string;
  includeRequestHeadersInCheck?: string[];
  includeAdditionalHeadersInCheck?: Record<string, string>;
  headersToUpstreamOnAllow?: string[];
  headersToDownstreamOnDeny?: string[];
  headersToDownstreamOnAllow?: string[];
  includeRequestBodyInCheck?: { maxRequestBytes?: number; allowPartialMessage?: boolean; packAsBytes?: boolean };
}

export interface ExtAuthzGrpcProvider extends ServicePortProvider {
  timeout?: string;
  failOpen?: boolean;
  statusOnError?: string;
  includeRequestBodyInCheck?: { maxRequestBytes?: number; allowPartialMessage?: boolean; packAsBytes?: boolean };
}

/** ProxyConfig.tracing (the legacy, pre-Telemetry-API tracer settings plus sampling). */
export interface ProxyTracing {
  zipkin?: { address?: string };
  lightstep?: { address?: string; accessToken?: string };
  datadog?: { address?: string };
  stackdriver?: Record<string, unknown>;
  openCensusAgent?: { address?: string; context?: string[] };
  customTags?: Record<string, unknown>;
  maxPathTagLength?: number;
  /** Percentage 0..100; Istio's default 1. */
  sampling?: number;
  tlsSettings?: Record<string, unknown>;
}

/** MeshConfig.defaultConfig: Istio's ProxyConfig, the proxy-level defaults. */
export interface MeshProxyConfig {
  concurrency?: number;
  drainDuration?: string;
  terminationDrainDuration?: string;
  discoveryAddress?: string;
  proxyAdminPort?: number;
  statusPort?: number;
  tracing?: ProxyTracing;
  /** Gateways only: hops trusted in X-Forwarded-For, and what they do to x-forwarded-client-cert. */
  gatewayTopology?: { numTrustedProxies?: number; forwardClientCertDetails?: "UNDEFINED" | "SANITIZE" | "FORWARD_ONLY" | "APPEND_FORWARD" | "SANITIZE_SET" | "ALWAYS_FORWARD_ONLY"; [field: string]: unknown };
  /** Environment-like metadata handed to every proxy (Istio: the agent's env). */
  proxyMetadata?: Record<string, string>;
  /** Envoy runtime keys, e.g. `overload.global_downstream_max_connections`. */
  runtimeValues?: Record<string, string>;
  holdApplicationUntilProxyStarts?: boolean;
  meshId?: string;
  extraStatTags?: string[];
  /** Every other ProxyConfig field as written. */
  [field: string]: unknown;
}

export interface MeshConfig {
  /** Default true. Without Telemetry tracing or defaultProviders, whether the legacy tracer runs. */
  enableTracing?: boolean;
  accessLogFile?: string;
  accessLogFormat?: string;
  accessLogEncoding?: "TEXT" | "JSON";
  defaultConfig?: MeshProxyConfig;
  outboundTrafficPolicy?: { mode?: "REGISTRY_ONLY" | "ALLOW_ANY" };
  trustDomain?: string;
  trustDomainAliases?: string[];
  rootNamespace?: string;
  extensionProviders?: ExtensionProvider[];
  defaultProviders?: { tracing?: string[]; metrics?: string[]; accessLogging?: string[] };
  enableAutoMtls?: boolean;
  connectTimeout?: string;
  /** Every other MeshConfig field as written. */
  [field: string]: unknown;
}
