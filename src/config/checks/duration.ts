// Durations as Istio reads them. Protobuf JSON writes durations as seconds with a fraction ("1.5s",
// "0.100s"); Istio's YAML loader also accepts Go's time.ParseDuration syntax ("1m30s", "1h",
// "100ms", "10us", "1ns"), which the samples use ("3m", "1h"). We accept both, compute in integer
// nanoseconds (BigInt) so precision rules such as "3.000000042s is not whole ms" are exact.
import type { FieldPath } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { describeType } from "./shape.ts";

export const NANOS_PER_MS = 1_000_000n;

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n, us: 1_000n, "µs": 1_000n, "μs": 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Nanoseconds, or null when `s` is not a duration. "0" alone is accepted, as in Go. */
export function parseDurationNanos(s: string): bigint | null {
  let text = s.trim();
  let sign = 1n;
  if (text.startsWith("-") || text.startsWith("+")) {
    if (text[0] === "-") sign = -1n;
    text = text.slice(1);
  }
  if (text === "0") return 0n;
  if (text === "") return null;
  let total = 0n;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return null;
    const [whole = "", frac = ""] = (m[1] ?? "").split(".");
    const unit = UNIT_NANOS[m[2] ?? ""] ?? 0n;
    total += BigInt(whole || "0") * unit;
    if (frac) total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    pos = PART.lastIndex;
  }
  return sign * total;
}

export interface DurationOptions {
  /** Accept "0s" (e.g. tcp idleTimeout, where 0 disables the timeout). */
  allowZero?: boolean;
}

export const DURATION_TOO_SMALL = "duration must be greater than 1ms";
export const DURATION_NOT_MS = "only durations to ms precision are supported";

/** Istio's ValidateDuration on an already parsed value: null when fine, else the error text. */
export function durationError(nanos: bigint, opts: DurationOptions = {}): string | null {
  if (nanos === 0n && opts.allowZero) return null;
  if (nanos < NANOS_PER_MS) return DURATION_TOO_SMALL;
  if (nanos % NANOS_PER_MS !== 0n) return DURATION_NOT_MS;
  return null;
}

/** Read a duration field; returns its nanoseconds when well-formed (even if out of range), else undefined. */
export function readDuration(v: Validator, path: FieldPath, x: unknown): bigint | undefined {
  if (x === undefined || x === null) return undefined;
  if (typeof x !== "string") {
    v.error(path, `expected a duration string such as "10s", "1.5s" or "100ms", got ${describeType(x)}`);
    return undefined;
  }
  const n = parseDurationNanos(x);
  if (n === null) {
    v.error(path, `invalid duration ${JSON.stringify(x)} (write e.g. "10s", "1.5s", "100ms" or "1m30s")`);
    return undefined;
  }
  return n;
}

/** Read and validate like Istio (>= 1ms, whole ms). Returns milliseconds when valid. */
export function checkDuration(v: Validator, path: FieldPath, x: unknown, opts: DurationOptions = {}): number | undefined {
  const n = readDuration(v, path, x);
  if (n === undefined) return undefined;
  const err = durationError(n, opts);
  if (err) {
    v.error(path, err);
    return undefined;
  }
  return Number(n / NANOS_PER_MS);
}
