// Telemetry settings of one config version, compiled once (cached per ProxyConfig object): who
// this proxy is (labels, peer header), lookups from cluster/endpoint to what metrics need, the
// access log formatter and filter, and the tracing parameters.
import type { AccessLogConfig, Cluster, CollectorTlsConfig, CustomTagConfig, Endpoint, ListenerDirection, ProxyConfig, TelemetryMode } from "../../model/proxy-config.ts";
import { compileJsonFormat, compileLabels, compileTextFormat, formatJson, ISTIO_TEXT_FORMAT, jsonFields } from "./access-log/format.ts";
import type { AccessLogEntry } from "./access-log/log-entry.ts";
import { compileCel, type CompiledCel } from "../../model/cel/compile.ts";
import { DEFAULT_MAX_SERIES } from "./metrics/istio-metrics.ts";
import { HTTP_LABELS, TCP_LABELS } from "./metrics/labels.ts";
import { MetricViews } from "./metrics/metric-views.ts";
import { checkHeaderLines } from "../http1/index.ts";
import { encodePeer, identityOf, PEER_HEADER, type PeerIdentity } from "./peer.ts";
import { DEFAULT_SAMPLING_PERCENTAGE } from "./tracing/sampling.ts";

export const DEFAULT_METRICS_PORT = 15090;

export interface TelemetrySettings {
  readonly config: ProxyConfig;
  readonly self: PeerIdentity;
  /** Our x-amime-peer value. */
  readonly selfHeader: string;
  /** The same as an HTTP/1.1 header line (checked once). */
  /** Our identity header line (x-amime-peer), as bytes for the upstream head's writer. */
  readonly selfLine: Buffer;
  /** Zipkin localEndpoint.serviceName: `<canonical service>.<namespace>` as Istio's. */
  readonly serviceName: string;
  readonly maxSeries: number;
  /** Any Istio metric reported on this side (`tcp`: the TCP ones). */
  metricsOn(d: ListenerDirection, tcp?: boolean): boolean;
  /** Telemetry `metrics.overrides`, compiled. */
  readonly views: MetricViews;
  readonly accessLog: {
    format: (e: AccessLogEntry) => string;
    path: string;
    formatName: "text" | "json";
    /** OTLP logs instead of a file (envoyOtelAls): where, the log name, the attributes of a record. */
    otel: { target: string; logName: string; attributes: ((e: AccessLogEntry) => Record<string, unknown>) | undefined; tls: CollectorTlsConfig | undefined; key: string } | null;
    /** Fluentd forward instead of a file: where, the tag, the record of a request. */
    fluentd: { target: string; tag: string; record: (line: string, e: AccessLogEntry) => Record<string, unknown>; key: string } | null;
    on(d: ListenerDirection): boolean;
    /** Telemetry `filter.expression`, compiled (null: log every request). */
    filter: CompiledCel | null;
  } | null;
  readonly tracing: {
    percentage: number;
    report: boolean;
    /** Decide at random rather than by x-request-id (useRequestIdForTraceSampling: false). */
    randomSampling: boolean;
    /** Add the istio.* tags (enableIstioTags, default true). */
    istioTags: boolean;
    /** Literal and environment custom tags, resolved once (an unset variable without default is left out). */
    fixedTags: readonly (readonly [string, string])[];
    /** Header custom tags: tag, header name (lowercase), default (undefined: no tag when the header is absent). */
    headerTags: readonly (readonly [string, string, string | undefined])[];
    on(d: ListenerDirection): boolean;
  } | null;
  cluster(name: string): Cluster | undefined;
  endpoint(cluster: string, hostKey: string): Endpoint | undefined;
}

/** Client side = outbound and gateway; server side = inbound. */
export function modeCovers(mode: TelemetryMode | undefined, d: ListenerDirection): boolean {
  if (mode === undefined || mode === "CLIENT_AND_SERVER") return true;
  return mode === "SERVER" ? d === "inbound" : d !== "inbound";
}

/** Splits custom tags into those fixed for this config (literal, environment) and those read per request (header). */
export function customTagLists(tags: Record<string, CustomTagConfig> | undefined, env: NodeJS.ProcessEnv = process.env): Pick<NonNullable<TelemetrySettings["tracing"]>, "fixedTags" | "headerTags"> {
  const fixedTags: [string, string][] = [];
  const headerTags: [string, string, string | undefined][] = [];
  for (const [name, t] of Object.entries(tags ?? {})) {
    if ("literal" in t) fixedTags.push([name, t.literal]);
    else if ("header" in t) headerTags.push([name, t.header.toLowerCase(), t.defaultValue]);
    else {
      const v = env[t.environment] ?? t.defaultValue;
      if (v !== undefined) fixedTags.push([name, v]);
    }
  }
  return { fixedTags, headerTags };
}

/** A Fluentd record: the provider's labels, else the default JSON fields, else (text format) `{log: line}`. */
function fluentdRecord(al: AccessLogConfig): (line: string, e: AccessLogEntry) => Record<string, unknown> {
  const labels = al.fluentd?.record;
  if (labels !== undefined && Object.keys(labels).length > 0) {
    const render = compileLabels(labels);
    return (_line, e) => render(e);
  }
  if (al.format === "json") return (_line, e) => jsonFields(e);
  return (line) => ({ log: line.endsWith("\n") ? line.slice(0, -1) : line });
}

const cache = new WeakMap<ProxyConfig, TelemetrySettings>();
// The current config's settings, in front of the WeakMap: the request path asks up to four times
// per request, always for the current config (a WeakMap lookup hashes the key each time).
// Reconfiguring calls settingsOf with the new config, so an old config is not kept here.
let lastConfig: ProxyConfig | null = null;
let lastSettings: TelemetrySettings | null = null;

export function settingsOf(config: ProxyConfig): TelemetrySettings {
  if (config === lastConfig) return lastSettings as TelemetrySettings;
  const hit = cache.get(config) ?? compileSettings(config);
  lastConfig = config;
  lastSettings = hit;
  return hit;
}

function compileSettings(config: ProxyConfig): TelemetrySettings {
  const t = config.telemetry ?? {};
  const self = identityOf(config.node);
  const clusters = new Map(config.clusters.map((c) => [c.name, c]));
  const endpointIndex = new Map<string, Map<string, Endpoint>>();
  const al = t.accessLog;
  const tr = t.tracing;
  // checkProxyConfig has compiled it already: a config with an expression the sidecar cannot evaluate never gets here.
  const filter = al?.filter !== undefined ? compileCel(al.filter, "bool") : null;
  const selfHeader = encodePeer(self);
  const views = new MetricViews(t.metrics?.overrides, HTTP_LABELS, TCP_LABELS);
  const s: TelemetrySettings = {
    config,
    self,
    selfHeader,
    selfLine: Buffer.from(checkHeaderLines([[PEER_HEADER, selfHeader]]), "latin1"),
    serviceName: `${self.canonicalService}.${self.namespace}`,
    maxSeries: t.metrics?.maxSeries ?? DEFAULT_MAX_SERIES,
    metricsOn: views.none ? () => true : (d, tcp = false) => views.on(d, tcp),
    views,
    accessLog:
      al === undefined
        ? null
        : {
            format: al.format === "json" ? (al.jsonLabels !== undefined ? compileJsonFormat(al.jsonLabels) : formatJson) : compileTextFormat(al.textFormat ?? ISTIO_TEXT_FORMAT),
            formatName: al.format === "json" ? "json" : "text",
            path: al.otel !== undefined || al.fluentd !== undefined ? "" : al.path || "/dev/stdout",
            otel:
              al.otel === undefined
                ? null
                : { target: al.otel.target, logName: al.otel.logName, attributes: al.otel.attributes !== undefined ? compileLabels(al.otel.attributes) : undefined, tls: al.otel.tls, key: JSON.stringify(al.otel) },
            fluentd: al.fluentd === undefined ? null : { target: al.fluentd.target, tag: al.fluentd.tag, record: fluentdRecord(al), key: JSON.stringify(al.fluentd) },
            on: (d) => modeCovers(al.mode, d),
            filter,
          },
    tracing:
      tr === undefined
        ? null
        : {
            percentage: Number.isFinite(tr.samplingPercentage) ? tr.samplingPercentage : DEFAULT_SAMPLING_PERCENTAGE,
            report: tr.endpoint !== undefined && tr.endpoint !== "" && tr.disableSpanReporting !== true,
            randomSampling: tr.randomSampling === true,
            istioTags: tr.noIstioTags !== true,
            ...customTagLists(tr.customTags),
            on: (d) => modeCovers(tr.mode, d),
          },
    cluster: (name) => clusters.get(name),
    endpoint: (cluster, hostKey) => {
      let m = endpointIndex.get(cluster);
      if (m === undefined) {
        m = new Map();
        for (const e of config.endpoints[cluster] ?? []) m.set(`${e.address}:${e.port}`, e);
        endpointIndex.set(cluster, m);
      }
      return m.get(hostKey);
    },
  };
  cache.set(config, s);
  return s;
}
