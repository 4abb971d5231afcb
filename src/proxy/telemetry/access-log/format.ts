// Access log formats. Text lines use Envoy's format-string language (`%REQ(X-FORWARDED-FOR)%`,
// `%RESPONSE_CODE%`…), compiled once into pieces; the default is Istio's default sidecar format.
// JSON lines carry the fields documented in docs/observability.md, with numbers as numbers and
// missing values as null.
import type { AccessLogEntry } from "./log-entry.ts";

/** Istio's default text access log format (meshConfig.accessLogFormat unset). */
export const ISTIO_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% ' +
  '%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% ' +
  "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

type Piece = string | ((e: AccessLogEntry) => string);
export type TextFormatter = (e: AccessLogEntry) => string;

const dash = (v: string | undefined): string => (v === undefined || v === "" ? "-" : v);

function pseudo(name: string): ((e: AccessLogEntry) => string | undefined) {
  switch (name) {
    case ":method":
      return (e) => e.method;
    case ":path":
      return (e) => e.path;
    case ":authority":
    case "host":
      return (e) => e.authority;
    case "x-request-id":
      return (e) => e.requestId || e.header("x-request-id");
    case ":scheme":
      return () => "http";
    default:
      return (e) => e.header(name);
  }
}

function headerOp(arg: string): (e: AccessLogEntry) => string | undefined {
  const q = arg.indexOf("?");
  const first = pseudo((q < 0 ? arg : arg.slice(0, q)).toLowerCase());
  if (q < 0) return first;
  const alt = pseudo(arg.slice(q + 1).toLowerCase());
  return (e) => first(e) ?? alt(e);
}

function responseHeaderOp(arg: string): (e: AccessLogEntry) => string | undefined {
  if (arg.toLowerCase() === "x-envoy-upstream-service-time") return (e) => (e.upstreamServiceTimeMs === undefined ? undefined : String(e.upstreamServiceTimeMs));
  // Other response headers are not kept after the response is relayed.
  return () => undefined;
}

function command(name: string, arg: string | undefined): ((e: AccessLogEntry) => string | undefined) | null {
  switch (name) {
    case "START_TIME":
      return (e) => new Date(e.startWallMs).toISOString();
    case "REQ":
      return arg === undefined ? null : headerOp(arg);
    case "RESP":
      return arg === undefined ? null : responseHeaderOp(arg);
    case "PROTOCOL":
      return (e) => e.protocol;
    case "RESPONSE_CODE":
      return (e) => String(e.status);
    case "RESPONSE_FLAGS":
      return (e) => e.flags;
    case "RESPONSE_CODE_DETAILS":
      return (e) => e.details;
    case "BYTES_RECEIVED":
      return (e) => String(e.bytesReceived);
    case "BYTES_SENT":
      return (e) => String(e.bytesSent);
    case "DURATION":
      return (e) => String(Math.round(e.durationMs));
    case "UPSTREAM_HOST":
      return (e) => e.upstreamHost;
    case "UPSTREAM_CLUSTER":
    case "UPSTREAM_CLUSTER_RAW":
      return (e) => e.upstreamCluster;
    case "ROUTE_NAME":
      return (e) => e.routeName;
    case "DOWNSTREAM_REMOTE_ADDRESS":
    case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT":
    case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS":
      return (e) => e.downstreamRemoteAddress;
    case "DOWNSTREAM_PEER_URI_SAN":
      return (e) => e.downstreamPeerUriSan;
    case "UPSTREAM_PEER_URI_SAN":
      return (e) => e.upstreamPeerUriSan;
    case "TRACE_ID":
      return (e) => e.traceId;
    case "HOSTNAME":
    case "CONNECTION_TERMINATION_DETAILS":
    case "UPSTREAM_TRANSPORT_FAILURE_REASON":
    case "UPSTREAM_LOCAL_ADDRESS":
    case "DOWNSTREAM_LOCAL_ADDRESS":
    case "REQUESTED_SERVER_NAME":
      // Not tracked by this proxy: rendered "-" as Envoy does for an empty value.
      return () => undefined;
    default:
      return null;
  }
}

const OPERATOR = /%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;
const SOLE_OPERATOR = /^%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%$/;
/** Operators whose value Envoy's JSON format writes as a number (when the value is that operator alone). */
const NUMERIC = new Set(["RESPONSE_CODE", "BYTES_RECEIVED", "BYTES_SENT", "DURATION"]);

/** Compile an Envoy format string. Unknown commands are kept literally (as text), `%%` is a `%`. */
export function compileTextFormat(format: string): TextFormatter {
  const pieces: Piece[] = [];
  let last = 0;
  const src = format.replace(/%%/g, "\u0000");
  for (const m of src.matchAll(OPERATOR)) {
    const at = m.index;
    const op = command(m[1] as string, m[2]);
    if (op === null) continue;
    if (at > last) pieces.push(src.slice(last, at));
    const max = m[3] !== undefined ? Number(m[3]) : 0;
    pieces.push(max > 0 ? (e) => dash(op(e)).slice(0, max) : (e) => dash(op(e)));
    last = at + m[0].length;
  }
  if (last < src.length) pieces.push(src.slice(last));
  const fixed = pieces.map((p) => (typeof p === "string" ? p.replace(/\u0000/g, "%") : p));
  return (e) => {
    let s = "";
    for (const p of fixed) s += typeof p === "string" ? p : p(e);
    return s.endsWith("\n") ? s : s + "\n";
  };
}

type JsonPiece = (e: AccessLogEntry) => unknown;

/** One label value: a sole operator keeps its type (numbers as numbers, unset as null), other strings are format strings, other JSON passes through. */
function jsonValue(v: unknown): JsonPiece {
  if (typeof v === "string") {
    const m = SOLE_OPERATOR.exec(v);
    const op = m === null ? null : command(m[1] as string, m[2]);
    if (m !== null && op !== null) {
      const max = m[3] !== undefined ? Number(m[3]) : 0;
      if (NUMERIC.has(m[1] as string)) return (e) => Number(op(e));
      return (e) => {
        const s = op(e);
        return s === undefined || s === "" ? null : max > 0 ? s.slice(0, max) : s;
      };
    }
    const text = compileTextFormat(v);
    return (e) => text(e).slice(0, -1);
  }
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const entries = Object.entries(v).map(([k, x]) => [k, jsonValue(x)] as const);
    return (e) => {
      const o: Record<string, unknown> = {};
      for (const [k, f] of entries) o[k] = f(e);
      return o;
    };
  }
  return () => v;
}

/** Labels rendered into an object (OTLP log attributes): values as in compileJsonFormat. */
export function compileLabels(labels: Readonly<Record<string, unknown>>): (e: AccessLogEntry) => Record<string, unknown> {
  return jsonValue(labels) as (e: AccessLogEntry) => Record<string, unknown>;
}

/**
 * Envoy's JSON format (a provider's `logFormat.labels`): one object per line, each label's value
 * rendered from its command operators. An empty label set means the default JSON fields (formatJson).
 */
export function compileJsonFormat(labels: Readonly<Record<string, unknown>>): TextFormatter {
  if (Object.keys(labels).length === 0) return formatJson;
  const root = jsonValue(labels);
  return (e) => JSON.stringify(root(e)) + "\n";
}

/** One JSON object per line. */
export function formatJson(e: AccessLogEntry): string {
  return JSON.stringify(jsonFields(e)) + "\n";
}

/** The default JSON fields of one request (a JSON line, or a Fluentd record). */
export function jsonFields(e: AccessLogEntry): Record<string, unknown> {
  const str = (v: string | undefined): string | null => (v === undefined || v === "" ? null : v);
  return {
      start_time: new Date(e.startWallMs).toISOString(),
      method: e.method,
      path: e.header("x-envoy-original-path") ?? e.path,
      protocol: e.protocol,
      response_code: e.status,
      response_flags: e.flags,
      response_code_details: e.details,
      bytes_received: e.bytesReceived,
      bytes_sent: e.bytesSent,
      duration: Math.round(e.durationMs),
      upstream_service_time: e.upstreamServiceTimeMs ?? null,
      x_forwarded_for: str(e.header("x-forwarded-for")),
      user_agent: str(e.header("user-agent")),
      request_id: str(e.requestId || e.header("x-request-id")),
      authority: str(e.authority),
      upstream_host: str(e.upstreamHost),
      upstream_cluster: str(e.upstreamCluster),
      route_name: str(e.routeName),
      downstream_remote_address: str(e.downstreamRemoteAddress),
      trace_id: str(e.traceId),
  };
}
