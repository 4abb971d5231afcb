// The span ids of a request whose span is not sampled (most requests: Istio samples 1 %), kept as
// numbers until something needs them as text. Every forwarded request with tracing on carries a
// trace id and a span id to the next hop, but only a sampled span is exported; the ids of the others
// were two strings and a span object per request that only the trace headers read. Here the 48 hex
// digits (a 32-digit trace id, then a 16-digit span id) are eight 24-bit groups, small integers held
// in the per-request state's own fields (no object, no string), written straight into the upstream
// head (HeaderLineWriter) and turned into strings only when asked (an access log's trace id, an
// HTTP/2 upstream's header pairs).
import type { Random } from "../../../core/random.ts";
import type { HeaderLineWriter } from "../../http1/line-writer.ts";
import type { OutgoingSpan } from "./trace-context.ts";

const HEX = Buffer.from("0123456789abcdef", "latin1");
const TWO_24 = 0x1000000;
const TWO_48 = TWO_24 * TWO_24;
const scratch = Buffer.allocUnsafe(32);
// The constant pieces of the unsampled trace headers, as bytes: copied by a loop, where a string
// went through Buffer's native latin1 writer (a call into C++ per piece).
const TRACEPARENT = Buffer.from("traceparent: 00-", "latin1");
const DASH = Buffer.from("-", "latin1");
const B3_TRACE_ID = Buffer.from("-00\r\nx-b3-traceid: ", "latin1");
const B3_SPAN_ID = Buffer.from("\r\nx-b3-spanid: ", "latin1");
const B3_UNSAMPLED = Buffer.from("\r\nx-b3-sampled: 0\r\n", "latin1");

export class SpanIds {
  /** Whether the groups hold this request's ids. */
  idsDrawn = false;
  private g0 = 0;
  private g1 = 0;
  private g2 = 0;
  private g3 = 0;
  private g4 = 0;
  private g5 = 0;
  private g6 = 0;
  private g7 = 0;

  /**
   * Draw new ids: 48 bits of each `Random.next()` make two groups (four calls, one boxed number
   * each). Neither id is ever all zeros (an invalid id): drawn again.
   */
  drawIds(random: Random): void {
    do {
      let v = Math.floor(random.next() * TWO_48);
      this.g0 = Math.floor(v / TWO_24);
      this.g1 = v % TWO_24;
      v = Math.floor(random.next() * TWO_48);
      this.g2 = Math.floor(v / TWO_24);
      this.g3 = v % TWO_24;
      v = Math.floor(random.next() * TWO_48);
      this.g4 = Math.floor(v / TWO_24);
      this.g5 = v % TWO_24;
      v = Math.floor(random.next() * TWO_48);
      this.g6 = Math.floor(v / TWO_24);
      this.g7 = v % TWO_24;
    } while ((this.g0 | this.g1 | this.g2 | this.g3 | this.g4 | (this.g5 >>> 16)) === 0 || ((this.g5 & 0xffff) | this.g6 | this.g7) === 0);
    this.idsDrawn = true;
  }

  /** Writes hex digits [from, to) of the 48 (trace id 0–31, span id 32–47). */
  writeIdDigits(w: HeaderLineWriter, from: number, to: number): void {
    w.length = this.hexInto(w.reserve(to - from), w.length, from, to);
  }

  /** Hex digits [from, to) as a string. */
  idText(from: number, to: number): string {
    return scratch.toString("latin1", 0, this.hexInto(scratch, 0, from, to));
  }

  /**
   * Writes hex digits [from, to) at `pos` of `out`; returns the position after them. Each group is
   * read once and walked by a shift (a division and a switch per digit were 2 % of the deployed
   * sidecar's busy time at saturation: 96 digits per request).
   */
  private hexInto(out: Uint8Array, pos: number, from: number, to: number): number {
    let g = (from / 6) | 0;
    let shift = (5 - (from - g * 6)) * 4;
    let v = this.group(g);
    for (let d = from; d < to; d++) {
      out[pos++] = HEX[(v >>> shift) & 15]!;
      if (shift === 0) {
        shift = 20;
        v = this.group(++g);
      } else shift -= 4;
    }
    return pos;
  }

  private group(i: number): number {
    switch (i | 0) {
      case 0:
        return this.g0;
      case 1:
        return this.g1;
      case 2:
        return this.g2;
      case 3:
        return this.g3;
      case 4:
        return this.g4;
      case 5:
        return this.g5;
      case 6:
        return this.g6;
      default:
        return this.g7;
    }
  }
}


/**
 * The trace headers of an unsampled span without an incoming context (no parent, no debug flag,
 * no single `b3` header): what writeTraceHeaderLines writes for `toOutgoingSpan(ids)`.
 */
export function writeUnsampledTraceLines(w: HeaderLineWriter, ids: SpanIds): void {
  // Each id's digits are made once and copied for the B3 headers.
  w.putAll(TRACEPARENT);
  const traceAt = w.length;
  ids.writeIdDigits(w, 0, 32);
  w.putAll(DASH);
  const spanAt = w.length;
  ids.writeIdDigits(w, 32, 48);
  w.putAll(B3_TRACE_ID).repeat(traceAt, 32);
  w.putAll(B3_SPAN_ID).repeat(spanAt, 16);
  w.putAll(B3_UNSAMPLED);
}

/** The ids as the span object the rest of tracing uses (unsampled, no parent). */
export function toOutgoingSpan(ids: SpanIds): OutgoingSpan {
  return { traceId: ids.idText(0, 32), spanId: ids.idText(32, 48), parentId: "", sampled: false, debug: false, b3Single: false };
}
