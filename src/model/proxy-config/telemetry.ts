// The telemetry part of ProxyConfig (docs/observability.md): the metrics listener and Istio
// metric overrides, metric exporters, access logs and tracing, as Telemetry resources and
// MeshConfig extension providers translate to them. Pure data, JSON-serializable.

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

/** One metrics exporter: an `opentelemetry` (OTLP metrics) or `dogstatsd` provider. docs/observability.md */
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
