// Chunked transfer coding (RFC 9112 §7.1) as a byte-level state machine that accepts any split
// of its input. Pass-through use (forward the raw chunked bytes unchanged to an HTTP/1.1 peer)
// needs only the consumed count: nothing is allocated per chunk. De-chunking and buffering use
// the optional onData callback.

import { Buffer } from "../../core/builtins.ts";
import type { ChunkDataCallback, ChunkedLimits } from "./types.ts";
import { DEFAULT_CHUNKED_LIMITS } from "./types.ts";
import { CR, FIELD_VALUE, HEX, HT, LF, SP, TOKEN } from "./chars.ts";
import { ParseError } from "./parse-error.ts";
import type { ParseErrorCode } from "./parse-error.ts";

const SIZE_FIRST = 0;
const SIZE = 1;
const SIZE_BWS = 2; // whitespace after the size or an extension: only ";" may follow
const EXT_NAME_START = 3;
const EXT_NAME = 4;
const EXT_AFTER_NAME = 5;
const EXT_VAL_START = 6;
const EXT_TOKEN = 7;
const EXT_QUOTED = 8;
const EXT_QUOTED_ESC = 9;
const EXT_AFTER_QUOTED = 10;
const SIZE_LF = 11;
const DATA = 12;
const DATA_CR = 13;
const DATA_LF = 14;
const TRAILER_START = 15;
const TRAILER_NAME = 16;
const TRAILER_VALUE = 17;
const TRAILER_LF = 18;
const FINAL_LF = 19;
const DONE = 20;
const FAILED = 21;

/** Max hex digits in a chunk size, leading zeros included (bounds a size line of "000…"). */
const MAX_SIZE_DIGITS = 64;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const COLON = 0x3a;

export class ChunkedDecoder {
  private state = SIZE_FIRST;
  private size = 0;
  private remaining = 0;
  private digits = 0;
  private extBytes = 0;
  private trailerBytes = 0;
  private readonly limits: ChunkedLimits;
  /** Data bytes (chunk payloads) seen so far. */
  bodyBytes = 0;
  /** Set when execute returned -1. */
  error: ParseError | null = null;

  constructor(limits: Partial<ChunkedLimits> = {}) {
    this.limits = { ...DEFAULT_CHUNKED_LIMITS, ...limits };
  }

  /** True once the last chunk and the trailer section (final CRLF) were consumed. */
  get done(): boolean {
    return this.state === DONE;
  }

  /** Bytes still expected in the current chunk's data (0 outside data). */
  get remainingInChunk(): number {
    return this.state === DATA ? this.remaining : 0;
  }

  reset(): void {
    this.state = SIZE_FIRST;
    this.size = 0;
    this.remaining = 0;
    this.digits = 0;
    this.extBytes = 0;
    this.trailerBytes = 0;
    this.bodyBytes = 0;
    this.error = null;
  }

  /**
   * Consumes buf[start, end). Returns how many bytes belong to the chunked body: all of them
   * unless the body ended inside the range (then the rest is the next message), or -1 on a
   * framing error (see `error`; the connection must be closed). onData gets each data segment as
   * a view into `buf`, valid only during the call.
   */
  execute(buf: Buffer, start: number, end: number, onData?: ChunkDataCallback): number {
    let state = this.state;
    if (state === DONE) return 0;
    if (state === FAILED) return -1;
    let i = start;
    while (i < end) {
      if (state === DATA) {
        const avail = end - i;
        const take = this.remaining < avail ? this.remaining : avail;
        if (onData !== undefined) onData(buf, i, i + take);
        i += take;
        this.remaining -= take;
        this.bodyBytes += take;
        if (this.remaining === 0) state = DATA_CR;
        continue;
      }
      const c = buf[i]!;
      i++;
      switch (state) {
        case SIZE_FIRST: {
          const d = HEX[c]!;
          if (d === 255) return this.fail("E_BAD_CHUNK", "chunk size is not hex", i - 1 - start);
          this.size = d;
          this.digits = 1;
          this.extBytes = 0;
          state = SIZE;
          break;
        }
        case SIZE: {
          const d = HEX[c]!;
          if (d !== 255) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail("E_CHUNK_TOO_LARGE", "chunk size line too long", i - 1 - start);
            if (this.size > (this.limits.maxChunkSize - d) / 16) return this.fail("E_CHUNK_TOO_LARGE", "chunk size too large", i - 1 - start);
            this.size = this.size * 16 + d;
          } else if (c === CR) state = SIZE_LF;
          else if (c === SEMI) state = EXT_NAME_START;
          else if (c === SP || c === HT) state = SIZE_BWS;
          else return this.fail("E_BAD_CHUNK", "invalid character in chunk size", i - 1 - start);
          break;
        }
        case SIZE_LF:
          if (c !== LF) return this.fail("E_BAD_CHUNK", "chunk size line must end with CRLF", i - 1 - start);
          if (this.size === 0) {
            this.trailerBytes = 0;
            state = TRAILER_START;
          } else {
            this.remaining = this.size;
            state = DATA;
          }
          break;
        case DATA_CR:
          if (c !== CR) return this.fail("E_BAD_CHUNK", "chunk data not followed by CRLF", i - 1 - start);
          state = DATA_LF;
          break;
        case DATA_LF:
          if (c !== LF) return this.fail("E_BAD_CHUNK", "chunk data not followed by CRLF", i - 1 - start);
          state = SIZE_FIRST;
          break;
        case TRAILER_START:
        case TRAILER_NAME:
        case TRAILER_VALUE:
        case TRAILER_LF:
        case FINAL_LF:
          if (++this.trailerBytes > this.limits.maxTrailerBytes) return this.fail("E_CHUNK_TOO_LARGE", "trailer section too large", i - 1 - start);
          state = this.trailer(state, c);
          if (state === FAILED) return this.fail("E_BAD_CHUNK", "malformed trailer section", i - 1 - start);
          if (state === DONE) {
            this.state = DONE;
            return i - start;
          }
          break;
        default:
          // Chunk extensions: parsed only to validate them (none is meaningful to a proxy).
          if (++this.extBytes > this.limits.maxExtensionBytes) return this.fail("E_CHUNK_TOO_LARGE", "chunk extensions too long", i - 1 - start);
          state = extension(state, c);
          if (state === FAILED) return this.fail("E_BAD_CHUNK", "malformed chunk extension", i - 1 - start);
      }
    }
    this.state = state;
    return end - start;
  }

  private trailer(state: number, c: number): number {
    switch (state) {
      case TRAILER_START:
        if (c === CR) return FINAL_LF;
        return TOKEN[c] === 1 ? TRAILER_NAME : FAILED; // SP/HT here would be obs-fold
      case TRAILER_NAME:
        if (TOKEN[c] === 1) return TRAILER_NAME;
        return c === COLON ? TRAILER_VALUE : FAILED;
      case TRAILER_VALUE:
        if (c === CR) return TRAILER_LF;
        return FIELD_VALUE[c] === 1 ? TRAILER_VALUE : FAILED;
      case TRAILER_LF:
        return c === LF ? TRAILER_START : FAILED;
      default: // FINAL_LF
        return c === LF ? DONE : FAILED;
    }
  }

  private fail(code: ParseErrorCode, message: string, offset: number): number {
    this.state = FAILED;
    this.error = new ParseError(code, message, offset);
    return -1;
  }
}

/**
 * chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
 * One step of the extension sub-machine; SIZE_LF when the size line ends.
 */
function extension(state: number, c: number): number {
  switch (state) {
    case SIZE_BWS:
      if (c === SP || c === HT) return SIZE_BWS;
      return c === SEMI ? EXT_NAME_START : FAILED;
    case EXT_NAME_START:
      if (c === SP || c === HT) return EXT_NAME_START;
      return TOKEN[c] === 1 ? EXT_NAME : FAILED;
    case EXT_NAME:
      if (TOKEN[c] === 1) return EXT_NAME;
      if (c === EQUALS) return EXT_VAL_START;
      if (c === SEMI) return EXT_NAME_START;
      if (c === CR) return SIZE_LF;
      return c === SP || c === HT ? EXT_AFTER_NAME : FAILED;
    case EXT_AFTER_NAME:
      if (c === SP || c === HT) return EXT_AFTER_NAME;
      if (c === EQUALS) return EXT_VAL_START;
      return c === SEMI ? EXT_NAME_START : FAILED;
    case EXT_VAL_START:
      if (c === SP || c === HT) return EXT_VAL_START;
      if (c === DQUOTE) return EXT_QUOTED;
      return TOKEN[c] === 1 ? EXT_TOKEN : FAILED;
    case EXT_TOKEN:
      if (TOKEN[c] === 1) return EXT_TOKEN;
      if (c === SEMI) return EXT_NAME_START;
      if (c === CR) return SIZE_LF;
      return c === SP || c === HT ? SIZE_BWS : FAILED;
    case EXT_QUOTED:
      if (c === DQUOTE) return EXT_AFTER_QUOTED;
      if (c === BACKSLASH) return EXT_QUOTED_ESC;
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      return FIELD_VALUE[c] === 1 ? EXT_QUOTED : FAILED;
    case EXT_QUOTED_ESC:
      return FIELD_VALUE[c] === 1 ? EXT_QUOTED : FAILED;
    case EXT_AFTER_QUOTED:
      if (c === SEMI) return EXT_NAME_START;
      if (c === CR) return SIZE_LF;
      return c === SP || c === HT ? SIZE_BWS : FAILED;
    default:
      return FAILED;
  }
}

/** Size line for a chunk of n bytes (n > 0): hex + CRLF. Follow the data with CHUNK_END. */
export function encodeChunkHeader(n: number): string {
  return n.toString(16) + "\r\n";
}

export const CHUNK_END = "\r\n";

/** The last chunk with an empty trailer section. */
export const LAST_CHUNK: Buffer = Buffer.from("0\r\n\r\n", "latin1");

/** One chunk (size line, data, CRLF) in one Buffer; empty data yields an empty Buffer (never a last chunk by accident). */
export function encodeChunk(data: Buffer, start = 0, end = data.length): Buffer {
  const n = end - start;
  if (n <= 0) return Buffer.alloc(0);
  const head = encodeChunkHeader(n);
  const out = Buffer.allocUnsafe(head.length + n + 2);
  out.write(head, 0, "latin1");
  data.copy(out, head.length, start, end);
  out[out.length - 2] = CR;
  out[out.length - 1] = LF;
  return out;
}
