// Telemetry translation: the Telemetry API resources that apply to one proxy (mesh-wide in the
// root namespace, namespace-wide, or selecting the workload — the most specific level that sets a
// section wins, as in Istio) plus the mesh's telemetry settings, resolved into the proxy's
// TelemetryConfig: metrics on/off, the access log (provider → format and path) and tracing
// (provider → endpoint and format, sampling). Pure; see docs/observability.md.
import type { NodeInfo, TelemetryConfig, TelemetryMode, TracingConfig, AccessLogConfig } from "../../model/proxy-config.ts";
import type { ConfigEntry, MeshSettings, Snapshot } from "../../model/snapshot.ts";
import type { AccessLogging, Metrics, TelemetrySpec, Tracing } from "../../config/types/telemetry.ts";
import { labelsMatch } from "../../model/registry.ts";
import { arr, num, obj, str, strMap } from "./common.ts";

/** A mesh extension provider (Istio meshConfig.extensionProviders, the parts Amime reads). */
export interface ExtensionProvider {
  name: string;
  envoyFileAccessLog?: { path?: string; logFormat?: { text?: string; labels?: Record<string, string> } };
  /** Spans go to `endpoint`, else http://service:port/api/v2/spans (path overridable). */
  zipkin?: { service?: string; port?: number; path?: string; endpoint?: string };
  /** OTLP/HTTP JSON to `endpoint`, else http://service:port + http.path (default /v1/traces). */
  opentelemetry?: { service?: string; port?: number; http?: { path?: string }; endpoint?: string };
  prometheus?: Record<string, never>;
}

/** Mesh-level telemetry settings (Istio meshConfig equivalents), read from `snapshot.mesh.telemetry`. */
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

export const DEFAULT_SAMPLING = 1;
const MODES: readonly TelemetryMode[] = ["CLIENT_AND_SERVER", "CLIENT", "SERVER"];

function meshTelemetry(mesh: Readonly<MeshSettings>): MeshTelemetry {
  const t = (mesh as MeshSettings & { telemetry?: MeshTelemetry }).telemetry;
  return typeof t === "object" && t !== null ? t : {};
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

function provider(mesh: MeshTelemetry, name: string | undefined): ExtensionProvider | undefined {
  return name === undefined ? undefined : arr(mesh.extensionProviders).find((p) => obj(p)?.name === name);
}

function tracingEndpoint(p: ExtensionProvider | undefined): Pick<TracingConfig, "endpoint" | "format"> {
  if (p?.zipkin) {
    const z = p.zipkin;
    const endpoint = str(z.endpoint) ?? (str(z.service) ? `http://${z.service}:${num(z.port) ?? 9411}${str(z.path) ?? "/api/v2/spans"}` : undefined);
    return endpoint === undefined ? { format: "zipkin" } : { endpoint, format: "zipkin" };
  }
  if (p?.opentelemetry) {
    const o = p.opentelemetry;
    const endpoint = str(o.endpoint) ?? (str(o.service) ? `http://${o.service}:${num(o.port) ?? 4318}${str(o.http?.path) ?? "/v1/traces"}` : undefined);
    return endpoint === undefined ? { format: "otlp" } : { endpoint, format: "otlp" };
  }
  return { format: "zipkin" };
}

function tracingConfig(specs: readonly TelemetrySpec[], mesh: MeshTelemetry): TracingConfig {
  const t = firstSection<Tracing>(specs, (s) => s.tracing);
  const providerName = str(arr(t?.providers)[0]?.name) ?? str(arr(mesh.defaultProviders?.tracing)[0]);
  const out: TracingConfig = {
    ...tracingEndpoint(provider(mesh, providerName)),
    samplingPercentage: num(t?.randomSamplingPercentage) ?? num(mesh.tracingSampling) ?? DEFAULT_SAMPLING,
  };
  const m = mode(t?.match?.mode);
  if (m) out.mode = m;
  if (t?.disableSpanReporting === true) out.disableSpanReporting = true;
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(t?.customTags) ?? {})) {
    const lit = str(obj(obj(v)?.literal)?.value);
    if (lit !== undefined) tags[k] = lit;
  }
  if (Object.keys(tags).length > 0) out.customTags = tags;
  return out;
}

/** Built-in access log providers: `envoy` (Istio's: text to stdout) and Amime's `json`. */
function accessLogFromProvider(mesh: MeshTelemetry, name: string): AccessLogConfig | undefined {
  if (name === "envoy") return { format: "text", path: "/dev/stdout" };
  if (name === "json") return { format: "json", path: "/dev/stdout" };
  const f = provider(mesh, name)?.envoyFileAccessLog;
  if (!f) return undefined;
  const lf = obj(f.logFormat);
  const out: AccessLogConfig = { format: lf?.labels ? "json" : "text", path: str(f.path) ?? "/dev/stdout" };
  const text = str(lf?.text);
  if (text !== undefined && !lf?.labels) out.textFormat = text;
  return out;
}

function accessLogConfig(specs: readonly TelemetrySpec[], mesh: MeshTelemetry): AccessLogConfig | undefined {
  const a = firstSection<AccessLogging>(specs, (s) => s.accessLogging);
  if (a !== undefined) {
    if (a.disabled === true) return undefined;
    const name = str(arr(a.providers)[0]?.name) ?? str(arr(mesh.defaultProviders?.accessLogging)[0]) ?? "envoy";
    const out = accessLogFromProvider(mesh, name);
    if (out === undefined) return undefined;
    const m = mode(a.match?.mode);
    if (m) out.mode = m;
    const filter = str(obj(a.filter)?.expression);
    if (filter !== undefined) out.filter = filter;
    return out;
  }
  const def = str(arr(mesh.defaultProviders?.accessLogging)[0]);
  if (def !== undefined) return accessLogFromProvider(mesh, def);
  const file = str(mesh.accessLogFile);
  if (file === undefined) return undefined;
  const out: AccessLogConfig = { format: mesh.accessLogEncoding === "JSON" ? "json" : "text", path: file };
  const fmt = str(mesh.accessLogFormat);
  if (fmt !== undefined && out.format === "text") out.textFormat = fmt;
  return out;
}

function metricsConfig(specs: readonly TelemetrySpec[]): TelemetryConfig["metrics"] {
  const m = firstSection<Metrics>(specs, (s) => s.metrics);
  for (const o of arr(m?.overrides)) {
    const metric = o.match?.metric;
    if (o.disabled === true && (metric === undefined || metric === "ALL_METRICS") && o.match?.customMetric === undefined) {
      const md = mode(o.match?.mode);
      return md ? { disabled: true, mode: md } : { disabled: true };
    }
  }
  return undefined;
}

/** The proxy's TelemetryConfig. `node.metricsPort` (set by the runtime) beats the mesh default. */
export function telemetryConfig(snapshot: Snapshot, node: NodeInfo & { metricsPort?: number }): TelemetryConfig {
  const mesh = meshTelemetry(snapshot.mesh);
  const specs = applicable(snapshot, node);
  const out: TelemetryConfig = { tracing: tracingConfig(specs, mesh) };
  const port = num(node.metricsPort) ?? num(mesh.metricsPort);
  if (port !== undefined) out.metricsPort = port;
  const metrics = metricsConfig(specs);
  if (metrics) out.metrics = metrics;
  const al = accessLogConfig(specs, mesh);
  if (al) out.accessLog = al;
  return out;
}
