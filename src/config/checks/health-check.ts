// Active health checking: Istio has no API for it (it relies on Kubernetes readiness), so Amime
// reads one annotation, `amime.dev/health-check`, on a DestinationRule (applies to every cluster
// of its host: all ports and subsets) or on a v1 Service (used when no DestinationRule for the
// host carries one). The value is a JSON object (YAML flow style is JSON):
//
//   amime.dev/health-check: '{"http": {"path": "/health", "expectedStatuses": [200, [300, 399]]},
//                             "interval": "5s", "timeout": "1s", "unhealthyThreshold": 3, "healthyThreshold": 2}'
//   amime.dev/health-check: '{"tcp": {}, "interval": "10s"}'
//
// Exactly one of `http` / `tcp`. Defaults (Envoy requires every field; these are Kubernetes probe
// habits): interval 10s, timeout 1s, unhealthyThreshold 3, healthyThreshold 1, path "/",
// expectedStatuses 200–299. Pure: the parser is shared by validation and translation.
import type { HealthCheckConfig } from "../../model/proxy-config.ts";
import type { FieldPath } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { durationError, NANOS_PER_MS, parseDurationNanos } from "./duration.ts";

export const HEALTH_CHECK_ANNOTATION = "amime.dev/health-check";

export const HEALTH_CHECK_DEFAULTS = Object.freeze({
  intervalMs: 10_000,
  timeoutMs: 1_000,
  unhealthyThreshold: 3,
  healthyThreshold: 1,
  path: "/",
  expectedStatuses: [[200, 299]] as [number, number][],
});

export interface HealthCheckProblem {
  /** Path inside the annotation's JSON value. */
  path: (string | number)[];
  message: string;
}

export interface ParsedHealthCheck {
  config?: HealthCheckConfig;
  problems: HealthCheckProblem[];
}

const FIELDS = ["http", "tcp", "interval", "timeout", "unhealthyThreshold", "healthyThreshold"];
const HTTP_FIELDS = ["path", "expectedStatuses"];

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parse an annotation value; `config` is set only when there are no problems. */
export function parseHealthCheck(value: string): ParsedHealthCheck {
  const problems: HealthCheckProblem[] = [];
  const bad = (path: (string | number)[], message: string): void => void problems.push({ path, message });
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (e) {
    bad([], `must be a JSON object such as {"http":{"path":"/health"},"interval":"5s"} (${(e as Error).message})`);
    return { problems };
  }
  if (!isObj(json)) {
    bad([], "must be a JSON object");
    return { problems };
  }
  for (const k of Object.keys(json)) if (!FIELDS.includes(k)) bad([k], `unknown field; known: ${FIELDS.join(", ")}`);
  const hasHttp = json.http !== undefined;
  const hasTcp = json.tcp !== undefined;
  if (hasHttp === hasTcp) bad([], 'exactly one of "http" and "tcp" is required');

  const duration = (key: string, dflt: number): number => {
    const v = json[key];
    if (v === undefined) return dflt;
    const nanos = typeof v === "string" ? parseDurationNanos(v) : null;
    if (nanos === null) {
      bad([key], `must be a duration such as "5s" or "500ms" (got ${JSON.stringify(v)})`);
      return dflt;
    }
    const err = durationError(nanos);
    if (err !== null) {
      bad([key], err);
      return dflt;
    }
    return Number(nanos / NANOS_PER_MS);
  };
  const threshold = (key: string, dflt: number): number => {
    const v = json[key];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 1000) {
      bad([key], `must be an integer from 1 to 1000 (got ${JSON.stringify(v)})`);
      return dflt;
    }
    return v;
  };
  const intervalMs = duration("interval", HEALTH_CHECK_DEFAULTS.intervalMs);
  const timeoutMs = duration("timeout", HEALTH_CHECK_DEFAULTS.timeoutMs);
  if (json.timeout !== undefined && json.interval !== undefined && timeoutMs > intervalMs) {
    bad(["timeout"], "must not be longer than the interval");
  }
  const unhealthyThreshold = threshold("unhealthyThreshold", HEALTH_CHECK_DEFAULTS.unhealthyThreshold);
  const healthyThreshold = threshold("healthyThreshold", HEALTH_CHECK_DEFAULTS.healthyThreshold);

  let config: HealthCheckConfig | undefined;
  const common = { intervalMs, timeoutMs, unhealthyThreshold, healthyThreshold };
  if (hasHttp) {
    const http = json.http;
    if (!isObj(http)) bad(["http"], 'must be an object, e.g. {"path": "/health"}');
    else {
      for (const k of Object.keys(http)) if (!HTTP_FIELDS.includes(k)) bad(["http", k], `unknown field; known: ${HTTP_FIELDS.join(", ")}`);
      const path = http.path ?? HEALTH_CHECK_DEFAULTS.path;
      if (typeof path !== "string" || !path.startsWith("/") || /[\s\u0000-\u001f\u007f]/.test(path)) {
        bad(["http", "path"], `must be an absolute path starting with "/" without spaces or control characters (got ${JSON.stringify(path)})`);
      }
      const statuses = expectedStatuses(http.expectedStatuses, bad);
      config = { kind: "http", path: typeof path === "string" ? path : "/", expectedStatuses: statuses, ...common };
    }
  } else if (hasTcp) {
    if (!isObj(json.tcp) || Object.keys(json.tcp).length > 0) bad(["tcp"], "must be an empty object {} (a TCP check only connects)");
    config = { kind: "tcp", ...common };
  }
  return problems.length === 0 && config !== undefined ? { config, problems } : { problems };
}

/** `[200, [300, 399]]`: single codes or inclusive [low, high] ranges within 100..599. */
function expectedStatuses(v: unknown, bad: (path: (string | number)[], message: string) => void): [number, number][] {
  if (v === undefined) return HEALTH_CHECK_DEFAULTS.expectedStatuses.map(([a, b]) => [a, b]);
  const at = ["http", "expectedStatuses"];
  if (!Array.isArray(v) || v.length === 0) {
    bad(at, "must be a non-empty list of status codes or [low, high] ranges");
    return [];
  }
  const code = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 100 && x <= 599;
  const out: [number, number][] = [];
  v.forEach((item: unknown, i) => {
    if (code(item)) out.push([item, item]);
    else if (Array.isArray(item) && item.length === 2 && code(item[0]) && code(item[1]) && item[0] <= item[1]) out.push([item[0], item[1]]);
    else bad([...at, i], `must be a status code (100..599) or a [low, high] range (got ${JSON.stringify(item)})`);
  });
  return out;
}

/** Validate the annotation of a resource, if present (reported under metadata.annotations). */
export function checkHealthCheckAnnotation(v: Validator, annotations: Readonly<Record<string, unknown>> | undefined): void {
  const value = annotations?.[HEALTH_CHECK_ANNOTATION];
  if (value === undefined) return;
  const base: FieldPath = ["metadata", "annotations", HEALTH_CHECK_ANNOTATION];
  if (typeof value !== "string") {
    v.error(base, "annotation values are strings: quote the JSON object");
    return;
  }
  for (const p of parseHealthCheck(value).problems) {
    v.error(base, p.path.length === 0 ? p.message : `${p.path.join(".")}: ${p.message}`);
  }
}
