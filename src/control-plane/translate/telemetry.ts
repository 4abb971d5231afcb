// Telemetry translation: the Telemetry API resources that apply to one proxy (mesh-wide in the
// root namespace, namespace-wide, or selecting the workload — the most specific level that sets a
// section wins, as in Istio) plus the mesh's telemetry settings, resolved into the proxy's
// TelemetryConfig: metrics on/off, the access log (provider → format and path) and tracing
// (provider → endpoint and format, sampling). Where each provider's collector is and how it is
// reached: telemetry-collectors.ts. Pure; see docs/observability.md.
import type { AccessLogConfig, CustomTagConfig, MetricOverride, MetricsExportConfig, NodeInfo, TelemetryConfig, TelemetryMode, TracingConfig } from "../../model/proxy-config.ts";
import type { ConfigEntry, MeshSettings, Snapshot } from "../../model/snapshot.ts";
import { meshProviders, providerProblem, serviceHost } from "../../config/mesh-config/providers.ts";
import type { ExtensionProvider, MeshConfig } from "../../model/specs/mesh-config.ts";
import type { AccessLogging, Metrics, TelemetrySpec, Tracing } from "../../model/specs/telemetry.ts";
import { celProblem } from "../../model/cel/compile.ts";
import { labelsMatch } from "../../model/registry.ts";
import { arr, durationMs, num, obj, str, strMap } from "./common.ts";
import { bracket, collectorAt, metricsExporter, tracingEndpoint, type CollectorTlsLookup, type SpanTarget } from "./telemetry-collectors.ts";

/** Mesh-level telemetry settings a runtime adds (`snapshot.mesh.telemetry`); MeshConfig fields win. */
export interface MeshTelemetry {
  extensionProviders?: ExtensionProvider[];
  defaultProviders?: { tracing?: string[]; accessLogging?: string[]; metrics?: string[] };
  /** meshConfig.defaultConfig.tracing.sampling (default 1). */
  tracingSampling?: number;
  /** meshConfig.accessLogFile: a path turns access logs on mesh-wide. */
  accessLogFile?: string;
  accessLogEncoding?: "TEXT" | "JSON";
  accessLogFormat?: string;
  /** Metrics listener port for every sidecar (default 15090). */
  metricsPort?: number;
}

/** What the translation reads: the runtime's settings under the MeshConfig's, providers resolved. */
interface MeshView extends MeshTelemetry {
  providers: ExtensionProvider[];
  /** meshConfig.enableTracing (default true): the legacy tracer when nothing names a provider. */
  enableTracing: boolean;
  /** meshConfig.defaultConfig.tracing.zipkin.address: the legacy tracer's collector. */
  legacyZipkin?: string;
}

export const DEFAULT_SAMPLING = 1;
const MODES: readonly TelemetryMode[] = ["CLIENT_AND_SERVER", "CLIENT", "SERVER"];

function meshView(mesh: Readonly<MeshSettings>): MeshView {
  const rt = (typeof mesh.telemetry === "object" && mesh.telemetry !== null ? mesh.telemetry : {}) as MeshTelemetry;
  const mc: MeshConfig = mesh.config ?? {};
  const dp = obj(mc.defaultProviders) ?? {};
  const rdp = rt.defaultProviders ?? {};
  const pick = (k: "tracing" | "accessLogging" | "metrics"): string[] | undefined => (Array.isArray(dp[k]) ? (dp[k] as string[]) : rdp[k]);
  const tracing = obj(obj(mc.defaultConfig)?.tracing);
  // The runtime's default tracer (amime up's collector) stands where Istio's legacy tracer would:
  // a MeshConfig that turns tracing off or names its own legacy Zipkin address replaces it.
  const runtimeTracer = mc.enableTracing !== false && str(obj(tracing?.zipkin)?.address) === undefined;
  const out: MeshView = {
    providers: meshProviders(mc, arr(rt.extensionProviders)),
    enableTracing: mc.enableTracing !== false,
    defaultProviders: { tracing: Array.isArray(dp.tracing) || runtimeTracer ? pick("tracing") : undefined, accessLogging: pick("accessLogging"), metrics: pick("metrics") },
  };
  const sampling = num(tracing?.sampling) ?? num(rt.tracingSampling);
  if (sampling !== undefined) out.tracingSampling = sampling;
  const zipkin = str(obj(tracing?.zipkin)?.address);
  if (zipkin !== undefined) out.legacyZipkin = zipkin;
  const file = str(mc.accessLogFile) ?? str(rt.accessLogFile);
  if (file !== undefined && file !== "") out.accessLogFile = file;
  const enc = mc.accessLogEncoding ?? rt.accessLogEncoding;
  if (enc !== undefined) out.accessLogEncoding = enc;
  const fmt = str(mc.accessLogFormat) ?? str(rt.accessLogFormat);
  if (fmt !== undefined && fmt !== "") out.accessLogFormat = fmt;
  if (rt.metricsPort !== undefined) out.metricsPort = rt.metricsPort;
  return out;
}

/** Applicable Telemetry resources, most specific first: workload, namespace, root namespace. */
function applicable(snapshot: Snapshot, node: NodeInfo): TelemetrySpec[] {
  const ns = node.namespace || "default";
  const all = snapshot.telemetries as readonly ConfigEntry<TelemetrySpec>[];
  const selectorOf = (t: ConfigEntry<TelemetrySpec>): Record<string, string> | undefined => strMap(obj(t.spec.selector)?.matchLabels);
  const out: TelemetrySpec[] = [];
  const workload = all.find((t) => t.namespace === ns && selectorOf(t) !== undefined && labelsMatch(selectorOf(t), node.labels ?? {}));
  if (workload) out.push(workload.spec);
  const nsWide = all.find((t) => t.namespace === ns && selectorOf(t) === undefined && t.spec.targetRefs === undefined && t.spec.targetRef === undefined);
  if (nsWide && ns !== snapshot.mesh.rootNamespace) out.push(nsWide.spec);
  const root = all.find((t) => t.namespace === snapshot.mesh.rootNamespace && selectorOf(t) === undefined && t.spec.targetRefs === undefined && t.spec.targetRef === undefined);
  if (root) out.push(root.spec);
  return out;
}

function mode(v: unknown): TelemetryMode | undefined {
  return MODES.includes(v as TelemetryMode) && v !== "CLIENT_AND_SERVER" ? (v as TelemetryMode) : undefined;
}

function firstSection<T>(specs: readonly TelemetrySpec[], pick: (s: TelemetrySpec) => T[] | undefined): T | undefined {
  for (const s of specs) {
    const list = arr(pick(s));
    if (list.length > 0) return list[0];
  }
  return undefined;
}

function provider(mesh: MeshView, name: string | undefined): ExtensionProvider | undefined {
  return name === undefined ? undefined : mesh.providers.find((p) => obj(p)?.name === name);
}

/**
 * The tracing section as Istio merges it: mesh-wide, then namespace, then workload, each level's
 * (first) entry replacing the fields it sets; custom tags merge by name, the more specific winning.
 */
function mergedTracing(specs: readonly TelemetrySpec[]): Tracing | undefined {
  let out: Tracing | undefined;
  for (const spec of [...specs].reverse()) {
    const t = obj(arr(spec.tracing)[0]) as Tracing | undefined;
    if (t === undefined) continue;
    const tags = { ...obj(out?.customTags), ...obj(t.customTags) };
    out = { ...out, ...t, providers: arr(t.providers).length > 0 ? t.providers : out?.providers };
    if (Object.keys(tags).length > 0) out.customTags = tags as Tracing["customTags"];
  }
  return out;
}

/** Telemetry customTags the sidecar applies (literal, header, environment; `formatter` is not: AMM1017). */
function customTags(tags: Tracing["customTags"]): Record<string, CustomTagConfig> {
  const out: Record<string, CustomTagConfig> = {};
  for (const [k, v] of Object.entries(obj(tags) ?? {})) {
    const lit = str(obj(v?.literal)?.value);
    const header = str(obj(v?.header)?.name);
    const env = str(obj(v?.environment)?.name);
    const def = str(obj(v?.header ?? v?.environment)?.defaultValue);
    if (lit !== undefined) out[k] = { literal: lit };
    else if (header !== undefined) out[k] = def !== undefined ? { header, defaultValue: def } : { header };
    else if (env !== undefined) out[k] = def !== undefined ? { environment: env, defaultValue: def } : { environment: env };
  }
  return out;
}

function tracingConfig(specs: readonly TelemetrySpec[], mesh: MeshView, tlsFor: CollectorTlsLookup | undefined): TracingConfig | undefined {
  const t = mergedTracing(specs);
  const providerName = str(arr(t?.providers)[0]?.name) ?? str(arr(mesh.defaultProviders?.tracing)[0]);
  let where: SpanTarget;
  if (providerName !== undefined) where = tracingEndpoint(provider(mesh, providerName), tlsFor);
  else if (t === undefined && !mesh.enableTracing) return undefined; // Istio: no Telemetry tracing and enableTracing false → no tracer
  else where = mesh.enableTracing && mesh.legacyZipkin !== undefined ? { endpoint: `http://${mesh.legacyZipkin}/api/v2/spans`, format: "zipkin" } : { format: "zipkin" };
  const out: TracingConfig = {
    ...where,
    samplingPercentage: num(t?.randomSamplingPercentage) ?? num(mesh.tracingSampling) ?? DEFAULT_SAMPLING,
  };
  const m = mode(t?.match?.mode);
  if (m) out.mode = m;
  if (t?.disableSpanReporting === true) out.disableSpanReporting = true;
  if (t?.useRequestIdForTraceSampling === false) out.randomSampling = true;
  if (t?.enableIstioTags === false) out.noIstioTags = true;
  const tags = customTags(t?.customTags);
  if (Object.keys(tags).length > 0) out.customTags = tags;
  return out;
}

/** A file access log provider (the built-ins `envoy` and `json` are ones); others write nothing (AMM1011/AMM1012). */
function accessLogFromProvider(mesh: MeshView, name: string, tlsFor: CollectorTlsLookup | undefined): AccessLogConfig | undefined {
  const p = provider(mesh, name);
  if (p === undefined || providerProblem("accessLogging", p) !== null) return undefined;
  const als = p.envoyOtelAls;
  if (als) {
    const lf = obj(als.logFormat);
    // Istio's envoyOtelAls: the body is the text format (Istio's default line unless `text`), the labels become attributes.
    const at = collectorAt(str(als.service) ?? "", num(als.port) ?? 4317, tlsFor);
    const out: AccessLogConfig = { format: "text", path: "", otel: { target: at.target, logName: str(als.logName) ?? "otel_envoy_accesslog", ...(at.tls ? { tls: at.tls } : {}) } };
    const text = str(lf?.text);
    if (text !== undefined) out.textFormat = text;
    const labels = obj(lf?.labels);
    if (labels !== undefined && Object.keys(labels).length > 0 && out.otel) out.otel.attributes = labels;
    return out;
  }
  const fd = p.fluentd;
  if (fd) {
    const lf = obj(fd.logFormat);
    const labels = obj(lf?.labels);
    const text = str(lf?.text);
    // The record is the labels (Envoy's fluentd `record`), the default JSON fields, or {log: <text line>} with `text`.
    const out: AccessLogConfig = { format: text !== undefined ? "text" : "json", path: "", fluentd: { target: `${bracket(serviceHost(str(fd.service) ?? ""))}:${num(fd.port) ?? 24224}`, tag: str(fd.tag) ?? "" } };
    if (text !== undefined) out.textFormat = text;
    if (labels !== undefined && Object.keys(labels).length > 0 && out.fluentd) out.fluentd.record = labels;
    return out;
  }
  const f = p.envoyFileAccessLog;
  if (!f) return undefined;
  const lf = obj(f.logFormat);
  const out: AccessLogConfig = { format: lf?.labels ? "json" : "text", path: str(f.path) ?? "/dev/stdout" };
  const text = str(lf?.text);
  if (text !== undefined && !lf?.labels) out.textFormat = text;
  const labels = obj(lf?.labels);
  if (labels !== undefined && Object.keys(labels).length > 0) out.jsonLabels = labels;
  return out;
}

function accessLogConfig(specs: readonly TelemetrySpec[], mesh: MeshView, tlsFor: CollectorTlsLookup | undefined): AccessLogConfig | undefined {
  const a = firstSection<AccessLogging>(specs, (s) => s.accessLogging);
  if (a !== undefined) {
    if (a.disabled === true) return undefined;
    const name = str(arr(a.providers)[0]?.name) ?? str(arr(mesh.defaultProviders?.accessLogging)[0]) ?? "envoy";
    const out = accessLogFromProvider(mesh, name, tlsFor);
    if (out === undefined) return undefined;
    const m = mode(a.match?.mode);
    if (m) out.mode = m;
    const filter = str(obj(a.filter)?.expression);
    if (filter !== undefined) out.filter = filter;
    return out;
  }
  const def = str(arr(mesh.defaultProviders?.accessLogging)[0]);
  if (def !== undefined) return accessLogFromProvider(mesh, def, tlsFor);
  const file = str(mesh.accessLogFile);
  if (file === undefined) return undefined;
  const out: AccessLogConfig = { format: mesh.accessLogEncoding === "JSON" ? "json" : "text", path: file };
  const fmt = str(mesh.accessLogFormat);
  if (fmt !== undefined && out.format === "text") out.textFormat = fmt;
  return out;
}

/**
 * Metric overrides from every level, mesh first, so that the namespace's and then the workload's
 * come later and win, as Istio merges them. Custom-metric overrides are left out (Amime has no
 * custom metrics; analyze warns, AMM1017).
 */
function metricsConfig(specs: readonly TelemetrySpec[]): TelemetryConfig["metrics"] {
  const out: MetricOverride[] = [];
  for (const spec of [...specs].reverse()) {
    for (const o of arr(arr(spec.metrics)[0]?.overrides)) {
      if (o.match?.customMetric !== undefined) continue;
      const one: MetricOverride = { metric: o.match?.metric ?? "ALL_METRICS" };
      const md = mode(o.match?.mode);
      if (md) one.mode = md;
      if (typeof o.disabled === "boolean") one.disabled = o.disabled;
      const tags: NonNullable<MetricOverride["tags"]> = {};
      for (const [name, t] of Object.entries(obj(o.tagOverrides) ?? {})) {
        if (t?.operation === "REMOVE") tags[name] = { remove: true };
        else if (str(t?.value) !== undefined && celProblem(t.value as string) === "") tags[name] = { value: t.value as string };
      }
      if (Object.keys(tags).length > 0) one.tags = tags;
      if (one.disabled !== undefined || one.tags !== undefined) out.push(one);
    }
  }
  return out.length > 0 ? { overrides: out } : undefined;
}

/** Istio's TCP metrics reporting interval (tcp_reporting_duration), used for every exporter's interval. */
export const DEFAULT_REPORTING_INTERVAL_MS = 15_000;

/** Metrics exporters: the providers of the most specific Telemetry `metrics` entry, else the mesh's default metrics providers. */
function metricsExportConfig(specs: readonly TelemetrySpec[], mesh: MeshView, tlsFor: CollectorTlsLookup | undefined): MetricsExportConfig[] {
  const m = firstSection<Metrics>(specs, (s) => s.metrics);
  const listed = arr(m?.providers).map((p) => str(p?.name)).filter((n): n is string => n !== undefined);
  const names = listed.length > 0 ? listed : arr(mesh.defaultProviders?.metrics).filter((n): n is string => typeof n === "string");
  const interval = durationMs(m?.reportingInterval);
  const intervalMs = interval !== undefined && interval > 0 ? interval : DEFAULT_REPORTING_INTERVAL_MS;
  const out: MetricsExportConfig[] = [];
  for (const name of new Set(names)) {
    const e = metricsExporter(provider(mesh, name), intervalMs, tlsFor);
    if (e !== null) out.push(e);
  }
  return out;
}

/** The proxy's TelemetryConfig. `node.metricsPort` (set by the runtime) beats the mesh default. */
export function telemetryConfig(snapshot: Snapshot, node: NodeInfo & { metricsPort?: number }, tlsFor?: CollectorTlsLookup): TelemetryConfig {
  const mesh = meshView(snapshot.mesh);
  const specs = applicable(snapshot, node);
  const out: TelemetryConfig = {};
  const tracing = tracingConfig(specs, mesh, tlsFor);
  if (tracing) out.tracing = tracing;
  const port = num(node.metricsPort) ?? num(mesh.metricsPort);
  if (port !== undefined) out.metricsPort = port;
  const metrics = metricsConfig(specs);
  if (metrics) out.metrics = metrics;
  const metricsExport = metricsExportConfig(specs, mesh, tlsFor);
  if (metricsExport.length > 0) out.metricsExport = metricsExport;
  const al = accessLogConfig(specs, mesh, tlsFor);
  if (al) out.accessLog = al;
  return out;
}
