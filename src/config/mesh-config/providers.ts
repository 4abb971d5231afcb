// Extension providers: which provider names exist (Istio's built-ins, Amime's, the MeshConfig's),
// what type each is, and whether the proxy can use it for a Telemetry section. Shared by the
// analyzer (unknown name → error, a type the proxy cannot export to → warning) and translation,
// so both read a provider the same way. Pure.
import type { ExtensionProvider, MeshConfig } from "../../model/specs/mesh-config.ts";

export const PROVIDER_TYPES = [
  "envoyExtAuthzHttp", "envoyExtAuthzGrpc", "zipkin", "lightstep", "datadog", "stackdriver", "opencensus", "skywalking",
  "opentelemetry", "prometheus", "envoyFileAccessLog", "envoyHttpAls", "envoyTcpAls", "envoyOtelAls", "sds",
  // Amime's own provider types (Envoy has these sinks; Istio's MeshConfig does not expose them).
  "dogstatsd", "fluentd",
] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/**
 * Providers every mesh has without configuring them: Istio's default MeshConfig defines `prometheus`,
 * `stackdriver` and `envoy` (file access log to /dev/stdout); Amime adds `json` (JSON lines to
 * /dev/stdout). A MeshConfig provider with the same name replaces the built-in one, as in Istio.
 */
export const BUILTIN_PROVIDERS: readonly ExtensionProvider[] = Object.freeze([
  { name: "prometheus", prometheus: {} },
  { name: "stackdriver", stackdriver: {} },
  { name: "envoy", envoyFileAccessLog: { path: "/dev/stdout" } },
  { name: "json", envoyFileAccessLog: { path: "/dev/stdout", logFormat: { labels: {} } } },
]);

/** The providers a mesh has: the MeshConfig's, then the runtime's, then the built-ins not replaced. */
export function meshProviders(config: MeshConfig | undefined, extra: readonly ExtensionProvider[] = []): ExtensionProvider[] {
  const out: ExtensionProvider[] = [];
  const seen = new Set<string>();
  const add = (p: unknown): void => {
    const name = typeof p === "object" && p !== null ? (p as { name?: unknown }).name : undefined;
    if (typeof name !== "string" || seen.has(name)) return;
    seen.add(name);
    out.push(p as ExtensionProvider);
  };
  for (const p of Array.isArray(config?.extensionProviders) ? config.extensionProviders : []) add(p);
  for (const p of extra) add(p);
  for (const p of BUILTIN_PROVIDERS) add(p);
  return out;
}

/** The provider's type: the one provider field it sets (undefined when none is known). */
export function providerType(p: ExtensionProvider): ProviderType | undefined {
  return PROVIDER_TYPES.find((t) => (p as unknown as Record<string, unknown>)[t] !== undefined && (p as unknown as Record<string, unknown>)[t] !== null);
}

export type TelemetrySection = "tracing" | "accessLogging" | "metrics";

/** Provider types that belong in each Telemetry section (as Istio sorts them). */
const SECTION_TYPES: Record<TelemetrySection, readonly ProviderType[]> = {
  tracing: ["zipkin", "lightstep", "datadog", "stackdriver", "opencensus", "skywalking", "opentelemetry"],
  accessLogging: ["envoyFileAccessLog", "envoyHttpAls", "envoyTcpAls", "envoyOtelAls", "stackdriver", "fluentd"],
  metrics: ["prometheus", "stackdriver", "opentelemetry", "dogstatsd"],
};

/**
 * Why the proxy cannot use provider `p` for `section`, or null when it can. A provider of a type
 * that does not belong in the section is ignored by Istio too; one the proxy cannot export to yet
 * (Datadog, SkyWalking, OTLP/gRPC tracing, the HTTP/TCP access log services…) leaves the section without an exporter.
 */
export function providerProblem(section: TelemetrySection, p: ExtensionProvider): string | null {
  const type = providerType(p);
  if (type === undefined) return `provider "${p.name}" sets no provider type Amime knows`;
  if (!SECTION_TYPES[section].includes(type)) return `provider "${p.name}" is of type ${type}, which is not a ${section} provider; Istio ignores it here`;
  if (section === "tracing") {
    if (type === "zipkin") return null;
    if (type === "opentelemetry") return null;
    return `provider "${p.name}" is of type ${type}, which the Amime sidecar cannot export to yet (it exports Zipkin v2, OTLP/HTTP and OTLP/gRPC); tracing headers are propagated but no spans are sent`;
  }
  if (section === "accessLogging") {
    if (type === "envoyFileAccessLog" || type === "envoyOtelAls" || type === "fluentd") return null;
    return `provider "${p.name}" is of type ${type}, which the Amime sidecar cannot send access logs to yet (it writes files and stdout, envoyFileAccessLog, OTLP logs, envoyOtelAls, and Fluentd forward, fluentd); no access log is written`;
  }
  if (type === "prometheus" || type === "opentelemetry" || type === "dogstatsd") return null;
  return `provider "${p.name}" is of type ${type}, which the Amime sidecar cannot export metrics to (it serves Prometheus and exports OTLP metrics, opentelemetry, and DogStatsD, dogstatsd); metrics stay on its Prometheus endpoint only`;
}

/** Strips Istio's optional `namespace/` prefix of a provider's service host. */
export function serviceHost(service: string): string {
  const slash = service.indexOf("/");
  return slash < 0 ? service : service.slice(slash + 1);
}
