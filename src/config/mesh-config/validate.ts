// MeshConfig validation: types and Istio's rules (ValidateMeshConfig: ports, durations, trust
// domain, extension providers with a unique name and one provider each, service and port; the
// ProxyConfig's sampling and addresses), unknown fields as warnings with a "did you mean", and an
// AMM1010 warning for each field Amime accepts but does not apply, so nothing is silently ignored.
import { AnalyzerCodes } from "../analyzer-codes.ts";
import { readArray, readBool, readEnum, readInt, readNumber, readObject, readObjectItem, readString, readStringList, readStringMap, warnUnknownFields } from "../checks/json-shape.ts";
import { checkDuration } from "../checks/duration.ts";
import { fqdnError, isIP } from "../checks/host.ts";
import type { Diagnostic } from "../../model/diagnostic.ts";
import { type FieldPath, type JsonObject } from "../../model/resource.ts";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";
import { Validator } from "../validator.ts";
import type { MeshConfigDocument } from "./parse.ts";
import { meshProviders, PROVIDER_TYPES, providerProblem } from "./providers.ts";
import { GLOBAL_DOWNSTREAM_MAX_CONNECTIONS, isAppliedRuntimeKey, REQUEST_HEADERS_TIMEOUT_MS, runtimeInteger } from "./runtime-keys.ts";

/** MeshConfig fields Amime reads (see docs/config.md "MeshConfig"). */
export const APPLIED_MESH_FIELDS: readonly string[] = [
  "enableTracing", "accessLogFile", "accessLogFormat", "accessLogEncoding", "defaultConfig", "outboundTrafficPolicy",
  "trustDomain", "rootNamespace", "extensionProviders", "defaultProviders", "enableAutoMtls",
];

/** MeshConfig fields Istio has that Amime accepts without applying them (AMM1010). */
export const NOT_APPLIED_MESH_FIELDS: readonly string[] = [
  "proxyListenPort", "proxyInboundListenPort", "proxyHttpPort", "connectTimeout", "protocolDetectionTimeout", "tcpKeepalive",
  "ingressClass", "ingressService", "ingressControllerMode", "ingressSelector", "enableEnvoyAccessLogService",
  "disableEnvoyListenerLog", "inboundTrafficPolicy", "configSources", "trustDomainAliases", "caCertificates",
  "defaultServiceExportTo", "defaultVirtualServiceExportTo", "defaultDestinationRuleExportTo", "localityLbSetting",
  "dnsRefreshRate", "h2UpgradePolicy", "inboundClusterStatName", "outboundClusterStatName", "certificates",
  "serviceSettings", "enablePrometheusMerge", "verifyCertificateAtClient", "ca", "discoverySelectors", "pathNormalization",
  "defaultHttpRetryPolicy", "meshMTLS", "tlsDefaults", "serviceScopeConfigs", "meshNetworks",
];

/** ProxyConfig (defaultConfig) fields Amime reads. */
export const APPLIED_PROXY_FIELDS: readonly string[] = ["tracing", "gatewayTopology"];

/** ProxyConfig fields Istio has that Amime accepts without applying them (AMM1010). */
export const NOT_APPLIED_PROXY_FIELDS: readonly string[] = [
  "configPath", "binaryPath", "serviceCluster", "drainDuration", "parentShutdownDuration", "discoveryAddress",
  "discoveryRefreshDelay", "zipkinAddress", "statsdUdpAddress", "envoyMetricsServiceAddress", "proxyAdminPort",
  "availabilityZone", "controlPlaneAuthPolicy", "customConfigFile", "statNameLength", "concurrency",
  "proxyBootstrapTemplatePath", "interceptionMode", "sds", "envoyAccessLogService", "envoyMetricsService", "proxyMetadata",
  "runtimeValues", "statusPort", "extraStatTags", "terminationDrainDuration", "meshId",
  "readinessProbe", "proxyStatsMatcher", "holdApplicationUntilProxyStarts", "caCertificatesPem", "image",
  "privateKeyProvider", "proxyHeaders", "fileFlushInterval", "fileFlushMinSize", "tracingServiceName", "clusterName",
];

/**
 * `defaultConfig.runtimeValues` keys the proxy applies (runtime-keys.ts; plus the per-listener
 * `envoy.resource_limits.listener.<name>.connection_limit`). Any other key gets AMM1010 (accepted,
 * not applied); a feature that reads a runtime key adds it in runtime-keys.ts.
 */
export const APPLIED_RUNTIME_KEYS: readonly string[] = [GLOBAL_DOWNSTREAM_MAX_CONNECTIONS, REQUEST_HEADERS_TIMEOUT_MS];

const TRACING_FIELDS = ["zipkin", "lightstep", "datadog", "stackdriver", "openCensusAgent", "customTags", "maxPathTagLength", "sampling", "tlsSettings"];

export interface MeshConfigValidation {
  /** The validated MeshConfig; null when it has errors. */
  config: MeshConfig | null;
  diagnostics: Diagnostic[];
}

export function validateMeshConfig(doc: MeshConfigDocument): MeshConfigValidation {
  const v = new Validator(doc.resource);
  const m = doc.body;
  warnUnknownFields(v, [], m, [...APPLIED_MESH_FIELDS, ...NOT_APPLIED_MESH_FIELDS]);
  for (const f of NOT_APPLIED_MESH_FIELDS) if (m[f] !== undefined && m[f] !== null) notApplied(v, [f], `MeshConfig ${f}`);
  readBool(v, ["enableTracing"], m.enableTracing);
  readString(v, ["accessLogFile"], m.accessLogFile);
  readString(v, ["accessLogFormat"], m.accessLogFormat);
  readEnum(v, ["accessLogEncoding"], m.accessLogEncoding, ["TEXT", "JSON"]);
  for (const f of ["connectTimeout", "protocolDetectionTimeout", "dnsRefreshRate"]) if (m[f] !== undefined) checkDuration(v, [f], m[f]);
  for (const f of ["proxyListenPort", "proxyInboundListenPort", "proxyHttpPort"]) readInt(v, [f], m[f], { min: 0, max: 65535 });
  const otp = readObject(v, ["outboundTrafficPolicy"], m.outboundTrafficPolicy);
  if (otp) {
    warnUnknownFields(v, ["outboundTrafficPolicy"], otp, ["mode"]);
    readEnum(v, ["outboundTrafficPolicy", "mode"], otp.mode, ["REGISTRY_ONLY", "ALLOW_ANY"]);
  }
  const td = readString(v, ["trustDomain"], m.trustDomain);
  if (td !== undefined) checkTrustDomain(v, ["trustDomain"], td);
  readStringList(v, ["trustDomainAliases"], m.trustDomainAliases)?.forEach((a, i) => checkTrustDomain(v, ["trustDomainAliases", i], a));
  const root = readString(v, ["rootNamespace"], m.rootNamespace);
  if (root !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(root)) v.error(["rootNamespace"], `root namespace ${JSON.stringify(root)} must be a lowercase RFC 1123 label`);
  checkProviders(v, m.extensionProviders);
  const dp = readObject(v, ["defaultProviders"], m.defaultProviders);
  if (dp) {
    warnUnknownFields(v, ["defaultProviders"], dp, ["tracing", "metrics", "accessLogging"]);
    const providers = meshProviders(m as MeshConfig);
    for (const f of ["tracing", "metrics", "accessLogging"] as const) {
      readStringList(v, ["defaultProviders", f], dp[f])?.forEach((name, i) => {
        const p = providers.find((x) => x.name === name);
        if (!p) v.error(["defaultProviders", f, i], `unknown provider "${name}": define it under extensionProviders (known: ${providers.map((x) => x.name).join(", ")})`, AnalyzerCodes.unknownProvider);
        else {
          const problem = providerProblem(f, p);
          if (problem) v.warn(["defaultProviders", f, i], `${problem}`, AnalyzerCodes.providerNotExported);
        }
      });
    }
  }
  const dc = readObject(v, ["defaultConfig"], m.defaultConfig);
  if (dc) checkProxyConfig(v, ["defaultConfig"], dc);
  return { config: v.ok ? (m as MeshConfig) : null, diagnostics: v.diagnostics };
}

function notApplied(v: Validator, path: FieldPath, what: string): void {
  v.warn(path, `${what} is accepted but not applied by Amime`, AnalyzerCodes.meshConfigNotApplied);
}

/** Istio's trust domain rule: DNS-like labels of letters, digits, '-', '_' (no empty label). */
function checkTrustDomain(v: Validator, path: FieldPath, td: string): void {
  if (td === "") v.error(path, "empty trust domain");
  else if (!td.split(".").every((l) => /^[A-Za-z0-9]([-_A-Za-z0-9]*[A-Za-z0-9])?$/.test(l))) v.error(path, `trust domain ${JSON.stringify(td)} is not a valid domain: labels of letters, digits, '-' and '_' separated by dots`);
}

function checkProviders(v: Validator, value: unknown): void {
  const seen = new Set<string>();
  readArray(v, ["extensionProviders"], value)?.forEach((item, i) => {
    const at: FieldPath = ["extensionProviders", i];
    const p = readObjectItem(v, at, item);
    if (!p) return;
    warnUnknownFields(v, at, p, ["name", ...PROVIDER_TYPES]);
    const name = readString(v, [...at, "name"], p.name);
    if (!name) v.error([...at, "name"], "empty extension provider name");
    else if (seen.has(name)) v.error([...at, "name"], `duplicate extension provider name ${name}`);
    else seen.add(name);
    const set = PROVIDER_TYPES.filter((t) => p[t] !== undefined && p[t] !== null);
    if (set.length === 0) {
      v.error(at, `extension provider ${JSON.stringify(name ?? "")} sets no provider; set one of ${PROVIDER_TYPES.join(", ")}`);
      return;
    }
    if (set.length > 1) v.error(at, `extension provider ${JSON.stringify(name ?? "")} sets ${set.join(" and ")}; a provider is exactly one of them`);
    for (const t of set) {
      const body = readObject(v, [...at, t], p[t]);
      if (body) checkProviderBody(v, [...at, t], t, body);
    }
  });
}

const SERVICE_PORT = ["service", "port"];
const BODY_FIELDS: Record<string, readonly string[]> = {
  envoyExtAuthzHttp: [...SERVICE_PORT, "timeout", "pathPrefix", "failOpen", "clearRouteCache", "statusOnError", "includeRequestHeadersInCheck", "includeHeadersInCheck", "includeAdditionalHeadersInCheck", "headersToUpstreamOnAllow", "headersToDownstreamOnDeny", "headersToDownstreamOnAllow", "includeRequestBodyInCheck"],
  envoyExtAuthzGrpc: [...SERVICE_PORT, "timeout", "failOpen", "clearRouteCache", "statusOnError", "includeRequestBodyInCheck"],
  zipkin: [...SERVICE_PORT, "maxTagLength", "enable64bitTraceId", "traceContextOption", "timeout", "headers", "path", "endpoint"],
  lightstep: [...SERVICE_PORT, "accessToken", "maxTagLength"],
  datadog: [...SERVICE_PORT, "maxTagLength"],
  stackdriver: ["debug", "maxNumberOfAttributes", "maxNumberOfAnnotations", "maxNumberOfMessageEvents", "maxTagLength", "logging"],
  opencensus: [...SERVICE_PORT, "maxTagLength", "context"],
  skywalking: [...SERVICE_PORT, "accessToken"],
  opentelemetry: [...SERVICE_PORT, "maxTagLength", "http", "grpc", "resourceDetectors", "dynatraceSampler", "endpoint"],
  prometheus: [],
  envoyFileAccessLog: ["path", "logFormat"],
  envoyHttpAls: [...SERVICE_PORT, "logName", "filterStateObjectsToLog", "additionalRequestHeadersToLog", "additionalResponseHeadersToLog", "additionalResponseTrailersToLog"],
  envoyTcpAls: [...SERVICE_PORT, "logName", "filterStateObjectsToLog"],
  envoyOtelAls: [...SERVICE_PORT, "logName", "logFormat"],
  sds: ["name"],
  dogstatsd: [...SERVICE_PORT, "prefix"],
  fluentd: [...SERVICE_PORT, "tag", "logFormat"],
};

/**
 * Fields of the provider types the sidecar exports that it does not apply (AMM1010). The sidecar
 * always reads and writes both B3 and W3C trace context (so traceContextOption is moot).
 */
const NOT_APPLIED_PROVIDER_FIELDS: Record<string, readonly string[]> = {
  zipkin: ["maxTagLength", "enable64bitTraceId", "traceContextOption", "timeout", "headers"],
  opentelemetry: ["maxTagLength", "grpc", "resourceDetectors", "dynatraceSampler"],
};

function checkProviderBody(v: Validator, at: FieldPath, type: string, body: JsonObject): void {
  warnUnknownFields(v, at, body, BODY_FIELDS[type] ?? []);
  for (const f of NOT_APPLIED_PROVIDER_FIELDS[type] ?? []) {
    if (body[f] != null) v.warn([...at, f], `${type}.${f} is accepted but not applied by Amime`, AnalyzerCodes.meshConfigNotApplied);
  }
  if ((BODY_FIELDS[type] ?? []).includes("service")) {
    const endpoint = readString(v, [...at, "endpoint"], body.endpoint);
    if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) v.error([...at, "endpoint"], `endpoint ${JSON.stringify(endpoint)} must be an http(s) URL`);
    const service = readString(v, [...at, "service"], body.service);
    // Amime's `endpoint` (a full URL) stands in for service and port.
    if (endpoint === undefined) {
      if (!service) v.error([...at, "service"], "service must not be empty");
      else {
        const problem = serviceProblem(service);
        if (problem) v.error([...at, "service"], problem);
      }
      if (body.port === undefined || body.port === null) v.error([...at, "port"], "port number 0 must be in the range 1..65535");
    }
    // A uint32 in Istio's proto: its JSON form also takes a decimal string (Istio's own task writes `port: "9000"`).
    const port = readInt(v, [...at, "port"], typeof body.port === "string" && /^[0-9]+$/.test(body.port) ? Number(body.port) : body.port);
    if (port !== undefined && (port < 1 || port > 65535)) v.error([...at, "port"], `port number ${port} must be in the range 1..65535`);
  }
  for (const f of ["timeout"]) if (body[f] !== undefined) checkDuration(v, [...at, f], body[f]);
  if (type === "zipkin") readEnum(v, [...at, "traceContextOption"], body.traceContextOption, ["USE_B3", "USE_B3_WITH_W3C_PROPAGATION"]);
  if (type === "zipkin") readString(v, [...at, "path"], body.path);
  if (type === "dogstatsd") {
    const prefix = readString(v, [...at, "prefix"], body.prefix);
    if (prefix !== undefined && !/^[A-Za-z0-9_.]*$/.test(prefix)) v.error([...at, "prefix"], `prefix ${JSON.stringify(prefix)} must be letters, digits, '_' and '.' (it starts every DogStatsD metric name)`);
  }
  if (type === "opentelemetry") {
    const http = readObject(v, [...at, "http"], body.http);
    if (http) {
      warnUnknownFields(v, [...at, "http"], http, ["path", "timeout", "headers"]);
      readString(v, [...at, "http", "path"], http.path);
      if (http.timeout !== undefined) checkDuration(v, [...at, "http", "timeout"], http.timeout);
      checkHttpHeaders(v, [...at, "http", "headers"], http.headers);
    }
    readObject(v, [...at, "grpc"], body.grpc);
  }
  if (type === "fluentd") {
    const tag = readString(v, [...at, "tag"], body.tag);
    // Envoy's fluentd access logger requires a tag: it routes the events in Fluentd.
    if (!tag) v.error([...at, "tag"], "tag must not be empty (Fluentd routes events by it, e.g. envoy.access)");
  }
  if (type === "envoyFileAccessLog" || type === "envoyOtelAls" || type === "fluentd") {
    readString(v, [...at, "path"], body.path);
    const lf = readObject(v, [...at, "logFormat"], body.logFormat);
    if (lf) {
      warnUnknownFields(v, [...at, "logFormat"], lf, ["text", "labels"]);
      readString(v, [...at, "logFormat", "text"], lf.text);
      readObject(v, [...at, "logFormat", "labels"], lf.labels);
      if (lf.text != null && lf.labels != null) v.error([...at, "logFormat"], "logFormat is one of text or labels, not both");
    }
  }
  if (type === "envoyExtAuthzHttp" || type === "envoyExtAuthzGrpc") checkExtAuthz(v, at, type, body);
}

/** `http.headers` of an OTLP/HTTP provider: `{name, value}` or `{name, envName}`, as HTTP allows. */
function checkHttpHeaders(v: Validator, at: FieldPath, list: unknown): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) return v.error(at, "headers must be a list of {name, value} or {name, envName}");
  list.forEach((h, i) => {
    const hv = readObject(v, [...at, i], h);
    if (!hv) return;
    warnUnknownFields(v, [...at, i], hv, ["name", "value", "envName"]);
    const name = readString(v, [...at, i, "name"], hv.name);
    if (!name) v.error([...at, i, "name"], "header name must not be empty");
    else if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) v.error([...at, i, "name"], `header name ${JSON.stringify(name)} is not a valid HTTP header name`);
    const value = readString(v, [...at, i, "value"], hv.value);
    const envName = readString(v, [...at, i, "envName"], hv.envName);
    if (value !== undefined && envName !== undefined) v.error([...at, i], "a header has value or envName, not both");
    else if (value === undefined && envName === undefined) v.error([...at, i], "a header needs value or envName");
    if (value !== undefined && /[\r\n\0]/.test(value)) v.error([...at, i, "value"], "header value must not contain CR, LF or NUL");
  });
}

/** Istio's checks of an ext_authz provider (extauthz.go): header patterns, pathPrefix, statusOnError, the body settings. */
function checkExtAuthz(v: Validator, at: FieldPath, type: string, body: JsonObject): void {
  readBool(v, [...at, "failOpen"], body.failOpen);
  if (body.clearRouteCache === true) v.warn([...at, "clearRouteCache"], `${type}.clearRouteCache is accepted but not applied by Amime: the route chosen before the check is kept when the authorizer edits headers`, AnalyzerCodes.meshConfigNotApplied);
  const status = body.statusOnError;
  if (status !== undefined && status !== null && !(typeof status === "string" && /^[1-5][0-9][0-9]$/.test(status))) v.error([...at, "statusOnError"], `invalid statusOnError value ${JSON.stringify(status)}: an HTTP status code such as "503"`);
  const body2 = readObject(v, [...at, "includeRequestBodyInCheck"], body.includeRequestBodyInCheck);
  if (body2) {
    warnUnknownFields(v, [...at, "includeRequestBodyInCheck"], body2, ["maxRequestBytes", "allowPartialMessage", "packAsBytes"]);
    readInt(v, [...at, "includeRequestBodyInCheck", "maxRequestBytes"], body2.maxRequestBytes, { min: 0 });
    readBool(v, [...at, "includeRequestBodyInCheck", "allowPartialMessage"], body2.allowPartialMessage);
    readBool(v, [...at, "includeRequestBodyInCheck", "packAsBytes"], body2.packAsBytes);
  }
  if (type !== "envoyExtAuthzHttp") return;
  const prefix = readString(v, [...at, "pathPrefix"], body.pathPrefix);
  if (prefix !== undefined && prefix !== "" && !prefix.startsWith("/")) v.error([...at, "pathPrefix"], `pathPrefix must begin with \`/\`, found: ${JSON.stringify(prefix)}`);
  for (const f of ["includeRequestHeadersInCheck", "includeHeadersInCheck", "headersToUpstreamOnAllow", "headersToDownstreamOnDeny", "headersToDownstreamOnAllow"]) {
    readStringList(v, [...at, f], body[f])?.forEach((h, i) => {
      if (h === "*") v.error([...at, f, i], `invalid header value: "*" (a lone * would match every header: use a prefix "x-*" or a suffix "*-x")`);
      else if (h === "") v.error([...at, f, i], "header name must not be empty");
    });
  }
  readStringMap(v, [...at, "includeAdditionalHeadersInCheck"], body.includeAdditionalHeadersInCheck);
}

/** Istio's rule for a provider service: an FQDN or IP, optionally `namespace/` in front. */
function serviceProblem(service: string): string | null {
  const parts = service.split("/");
  if (parts.length > 2) return `service ${JSON.stringify(service)} must be HOST or NAMESPACE/HOST`;
  const host = parts[parts.length - 1] ?? "";
  if (isIP(host)) return null;
  const err = fqdnError(host);
  return err ? `invalid service ${JSON.stringify(service)}: ${err}` : null;
}

function checkProxyConfig(v: Validator, at: FieldPath, dc: JsonObject): void {
  warnUnknownFields(v, at, dc, [...APPLIED_PROXY_FIELDS, ...NOT_APPLIED_PROXY_FIELDS]);
  for (const f of NOT_APPLIED_PROXY_FIELDS) {
    if (f === "runtimeValues" || dc[f] === undefined || dc[f] === null) continue;
    const why = f === "concurrency" ? " (the Amime sidecar runs one event loop per proxy)" : "";
    v.warn([...at, f], `MeshConfig defaultConfig.${f} is accepted but not applied by Amime${why}`, AnalyzerCodes.meshConfigNotApplied);
  }
  const c = readInt(v, [...at, "concurrency"], dc.concurrency);
  if (c !== undefined && c < 0) v.error([...at, "concurrency"], "concurrency must be greater than or equal to 0");
  for (const f of ["drainDuration", "terminationDrainDuration", "parentShutdownDuration"]) if (dc[f] !== undefined) checkDuration(v, [...at, f], dc[f]);
  for (const f of ["proxyAdminPort", "statusPort"]) {
    const p = readInt(v, [...at, f], dc[f]);
    if (p !== undefined && (p < 1 || p > 65535)) v.error([...at, f], `port number ${p} must be in the range 1..65535`);
  }
  readStringMap(v, [...at, "proxyMetadata"], dc.proxyMetadata);
  const rv = readStringMap(v, [...at, "runtimeValues"], dc.runtimeValues);
  for (const [key, value] of Object.entries(rv ?? {})) {
    if (!isAppliedRuntimeKey(key)) v.warn([...at, "runtimeValues", key], `runtime key ${key} is accepted but not applied by Amime`, AnalyzerCodes.meshConfigNotApplied);
    else if (runtimeInteger(value) === null) v.error([...at, "runtimeValues", key], `runtime key ${key} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  readBool(v, [...at, "holdApplicationUntilProxyStarts"], dc.holdApplicationUntilProxyStarts);
  checkGatewayTopology(v, [...at, "gatewayTopology"], dc.gatewayTopology);
  const t = readObject(v, [...at, "tracing"], dc.tracing);
  if (!t) return;
  const tp = [...at, "tracing"];
  warnUnknownFields(v, tp, t, TRACING_FIELDS);
  const sampling = readNumber(v, [...tp, "sampling"], t.sampling);
  if (sampling !== undefined && (sampling < 0 || sampling > 100)) v.error([...tp, "sampling"], "sampling must be between 0.0 and 100.0");
  for (const f of ["lightstep", "datadog", "stackdriver", "openCensusAgent", "customTags", "maxPathTagLength", "tlsSettings"]) {
    if (t[f] !== undefined && t[f] !== null) v.warn([...tp, f], `MeshConfig defaultConfig.tracing.${f} is accepted but not applied by Amime (it applies zipkin.address and sampling)`, AnalyzerCodes.meshConfigNotApplied);
  }
  const z = readObject(v, [...tp, "zipkin"], t.zipkin);
  if (z) {
    warnUnknownFields(v, [...tp, "zipkin"], z, ["address"]);
    const addr = readString(v, [...tp, "zipkin", "address"], z.address);
    if (addr !== undefined && !/^[^:\s]+:\d{1,5}$/.test(addr)) v.error([...tp, "zipkin", "address"], `address ${JSON.stringify(addr)} must be host:port`);
  }
}

/** Gateways read numTrustedProxies (authorization's remoteIpBlocks) and forwardClientCertDetails (XFCC); proxyProtocol is not applied. */
function checkGatewayTopology(v: Validator, at: FieldPath, value: unknown): void {
  const g = readObject(v, at, value);
  if (!g) return;
  warnUnknownFields(v, at, g, ["numTrustedProxies", "forwardClientCertDetails", "proxyProtocol"]);
  const n = readInt(v, [...at, "numTrustedProxies"], g.numTrustedProxies);
  if (n !== undefined && n < 0) v.error([...at, "numTrustedProxies"], "numTrustedProxies must be greater than or equal to 0");
  readEnum(v, [...at, "forwardClientCertDetails"], g.forwardClientCertDetails, ["UNDEFINED", "SANITIZE", "FORWARD_ONLY", "APPEND_FORWARD", "SANITIZE_SET", "ALWAYS_FORWARD_ONLY"]);
  if (g.proxyProtocol !== undefined && g.proxyProtocol !== null) v.warn([...at, "proxyProtocol"], "MeshConfig defaultConfig.gatewayTopology.proxyProtocol is accepted but not applied by Amime", AnalyzerCodes.meshConfigNotApplied);
}
