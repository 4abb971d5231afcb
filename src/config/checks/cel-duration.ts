// Durations as Istio's CRDs check them: CEL `duration(self) >= duration('1ms')`, where duration()
// takes Go's time.ParseDuration syntax ("1h2m", "1.5s", "300ms", "10us"). Used by security and
// telemetry kinds (RequestAuthentication timeout, Telemetry reportingInterval).
import type { FieldPath } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { readString } from "./json-shape.ts";

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Nanoseconds of a Go-style duration, or null when it does not parse. */
export function parseGoDuration(text: string): number | null {
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return null;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) return null;
    total += Number(m[1]) * (UNIT_NS[m[2] ?? ""] ?? Number.NaN);
  }
  return Number.isFinite(total) ? sign * total : null;
}

/** A duration field that must parse and be at least 1ms. Returns nanoseconds. */
export function readCelDuration(v: Validator, path: FieldPath, value: unknown): number | undefined {
  const s = readString(v, path, value);
  if (s === undefined) return undefined;
  const ns = parseGoDuration(s);
  if (ns === null || ns < 1e6) {
    v.error(path, `must be a valid duration greater than 1ms (got ${JSON.stringify(s)}; write e.g. "500ms", "5s" or "1m")`);
    return undefined;
  }
  return ns;
}
