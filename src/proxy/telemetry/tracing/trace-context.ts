// Trace context propagation: read the incoming context (W3C traceparent, B3 single `b3`, B3 multi
// x-b3-*), and write the outgoing one for the next hop — same trace id, a new span id, the
// incoming span as parent, the sampling decision carried along. The proxy writes traceparent and
// x-b3-* on every forwarded request (and `b3` when the request came with it), replacing what the
// app sent; tracestate passes through untouched.
import { Buffer } from "../../../core/builtins.ts";
import type { Random } from "../../../core/random.ts";
import type { HeaderLineWriter } from "../../http1/index.ts";

export interface TraceContext {
  /** 32 (or, from B3, 16) lowercase hex digits; "" when only a sampling decision came in. */
  traceId: string;
  /** The sender's span (our parent), 16 hex digits; "" when none. */
  spanId: string;
  /** The upstream sampling decision; undefined = none (we decide). */
  sampled: boolean | undefined;
  /** B3 debug flag (forces sampling). */
  debug: boolean;
  /** The request carried a single `b3` header (we answer in the same form too). */
  b3Single: boolean;
}

/** Headers the proxy rewrites on every forwarded request when tracing is on. */
export const TRACE_HEADERS: readonly string[] = Object.freeze(["traceparent", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"]);

const HEX16 = /^[0-9a-f]{16}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO16 = "0000000000000000";
const ZERO32 = ZERO16 + ZERO16;

function hexId(v: string | undefined, allow32: boolean): string | null {
  if (v === undefined) return null;
  const s = v.trim().toLowerCase();
  if (HEX16.test(s)) return s === ZERO16 ? null : s;
  if (allow32 && HEX32.test(s)) return s === ZERO32 ? null : s;
  return null;
}

function sampledFlag(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (s === "1" || s === "true" || s === "d") return true;
  if (s === "0" || s === "false") return false;
  return undefined;
}

/** W3C Trace Context: version-traceid-parentid-flags; unknown future versions may carry more fields. */
export function parseTraceparent(v: string | undefined): TraceContext | null {
  if (v === undefined) return null;
  const m = TRACEPARENT.exec(v.trim().toLowerCase());
  if (m === null) return null;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (traceId === ZERO32 || spanId === ZERO16) return null;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, debug: false, b3Single: false };
}

/** B3 single header: `{traceId}-{spanId}[-{sampled}[-{parentSpanId}]]`, or just `{sampled}` (0, 1, d). */
export function parseB3Single(v: string | undefined): TraceContext | null {
  if (v === undefined || v === "") return null;
  const parts = v.trim().toLowerCase().split("-");
  if (parts.length === 1) {
    const s = sampledFlag(parts[0]);
    return s === undefined ? null : { traceId: "", spanId: "", sampled: s, debug: parts[0] === "d", b3Single: true };
  }
  if (parts.length > 4) return null;
  const traceId = hexId(parts[0], true);
  const spanId = hexId(parts[1], false);
  if (traceId === null || spanId === null) return null;
  let sampled: boolean | undefined;
  let debug = false;
  if (parts.length >= 3) {
    sampled = sampledFlag(parts[2]);
    if (sampled === undefined) return null;
    debug = parts[2] === "d";
  }
  if (parts.length === 4 && hexId(parts[3], false) === null) return null;
  return { traceId, spanId, sampled, debug, b3Single: true };
}

/** B3 multi headers; a sampling decision alone (x-b3-sampled / x-b3-flags without ids) is kept. */
export function parseB3Multi(get: (name: string) => string | undefined): TraceContext | null {
  const debug = get("x-b3-flags")?.trim() === "1";
  const sampled = debug ? true : sampledFlag(get("x-b3-sampled"));
  const traceId = hexId(get("x-b3-traceid"), true);
  const spanId = hexId(get("x-b3-spanid"), false);
  if (traceId !== null && spanId !== null) return { traceId, spanId, sampled, debug, b3Single: false };
  if (sampled !== undefined) return { traceId: "", spanId: "", sampled, debug, b3Single: false };
  return null;
}

/** The incoming context: traceparent first, then `b3`, then x-b3-*; null when none is valid. */
export function extractTraceContext(get: (name: string) => string | undefined): TraceContext | null {
  const w3c = parseTraceparent(get("traceparent"));
  if (w3c !== null) {
    // A B3 debug flag or single header alongside still counts.
    if (get("x-b3-flags")?.trim() === "1") w3c.debug = w3c.sampled = true;
    if (get("b3") !== undefined) w3c.b3Single = true;
    return w3c;
  }
  return parseB3Single(get("b3")) ?? parseB3Multi(get);
}

const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
const hexScratch = Buffer.allocUnsafe(32);

/**
 * `n` random lowercase hex digits (n a multiple of 8), never all zeros. Every request with tracing
 * on gets ids (unsampled ones too, as Envoy's), so they are written into one scratch buffer and
 * read out as one flat string: no per-group strings, no padding, no regex.
 */
export function randomHex(random: Random, n: 16 | 32): string {
  let any = 0;
  for (let i = 0; i < n; i += 8) {
    // next(), not int(2^32): a 32-bit integer is no small integer to V8, and int() returned each
    // one boxed (a heap number per draw, on top of the one Math.random's result needs).
    let v = Math.floor(random.next() * 0x100000000);
    any |= v;
    for (let k = i + 7; k >= i; k--) {
      hexScratch[k] = HEX_DIGITS[v & 15]!;
      v >>>= 4;
    }
  }
  return any === 0 ? randomHex(random, n) : hexScratch.toString("latin1", 0, n);
}

export interface OutgoingSpan {
  traceId: string;
  spanId: string;
  parentId: string;
  sampled: boolean;
  debug: boolean;
  b3Single: boolean;
}

/**
 * The same headers as injectTraceHeaders, as HTTP/1.1 header lines written into `w` (the upstream
 * head's line writer): the ids are hex (ours, or incoming ones that passed the HEX checks above),
 * so the lines are valid by construction and need no per-character check.
 */
export function writeTraceHeaderLines(w: HeaderLineWriter, s: OutgoingSpan): HeaderLineWriter {
  const flag = s.debug ? "d" : s.sampled ? "1" : "0";
  w.put("traceparent: 00-");
  if (s.traceId.length !== 32) w.put(ZERO32.slice(s.traceId.length));
  w.put(s.traceId).put("-").put(s.spanId).put(s.sampled ? "-01\r\n" : "-00\r\n");
  w.line("x-b3-traceid: ", s.traceId).line("x-b3-spanid: ", s.spanId);
  if (s.parentId !== "") w.line("x-b3-parentspanid: ", s.parentId);
  w.put(s.debug ? "x-b3-flags: 1\r\n" : s.sampled ? "x-b3-sampled: 1\r\n" : "x-b3-sampled: 0\r\n");
  if (s.b3Single) {
    w.put("b3: ").put(s.traceId).put("-").put(s.spanId).put("-").put(flag);
    if (s.parentId !== "") w.put("-").put(s.parentId);
    w.crlf();
  }
  return w;
}

/** Append the headers that carry `span` to the next hop. */
export function injectTraceHeaders(out: [string, string][], s: OutgoingSpan): void {
  const flags = s.sampled ? "01" : "00";
  out.push(["traceparent", `00-${s.traceId.padStart(32, "0")}-${s.spanId}-${flags}`]);
  out.push(["x-b3-traceid", s.traceId]);
  out.push(["x-b3-spanid", s.spanId]);
  if (s.parentId !== "") out.push(["x-b3-parentspanid", s.parentId]);
  if (s.debug) out.push(["x-b3-flags", "1"]);
  else out.push(["x-b3-sampled", s.sampled ? "1" : "0"]);
  if (s.b3Single) out.push(["b3", `${s.traceId}-${s.spanId}-${s.debug ? "d" : s.sampled ? "1" : "0"}${s.parentId !== "" ? "-" + s.parentId : ""}`]);
}
