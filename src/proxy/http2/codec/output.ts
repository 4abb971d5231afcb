// H2Output: every frame a connection sends this turn, appended into one buffer and written with
// one socket write when the turn ends (as SocketWriter.writeSoon does for HTTP/1.1 messages): a
// turn that answers several streams, ACKs a PING and gives back window sends one packet, not one
// per frame. The buffer is reused while the kernel takes each write at once; a write that has to
// wait keeps its buffer and the next turn starts a new one.
import { Buffer } from "../../../core/builtins.ts";
import type { Socket } from "node:net";
import { flushAtEndOfTurn } from "../../io/end-of-turn.ts";
import { SocketWriter } from "../../io/socket-writer.ts";
import { HpackEncoder } from "../hpack/index.ts";
import {
  CONTINUATION, DATA, DEFAULT_MAX_FRAME, FRAME_HEADER, GOAWAY, HEADERS, PING, RST_STREAM, SETTINGS,
  WINDOW_UPDATE, FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, putFrameHeader,
} from "./frames.ts";

/** A turn's frames usually fit in 2 KB (a response head and a small body); the buffer grows as needed and goes back to this size after a turn over 64 KB. */
const INITIAL_SIZE = 2 * 1024;
const KEEP_AT_MOST = 64 * 1024;

export class H2Output {
  private readonly socket: Socket;
  private readonly writer: SocketWriter;
  private readonly encoder = new HpackEncoder();
  private buf = Buffer.allocUnsafe(INITIAL_SIZE);
  private len = 0;
  private scheduled = false;
  /** Where the last DATA frame of this turn's bytes starts (-1: none), and its stream. */
  private lastData = -1;
  private lastDataStream = 0;
  /** The peer's SETTINGS_MAX_FRAME_SIZE: the largest frame payload sent. */
  maxFrame = DEFAULT_MAX_FRAME;
  /** A write waits in the kernel's queue (cleared by the socket's 'drain'). */
  congested = false;
  /** Called after the turn's bytes went out (the connection emits deferred stream events). */
  onFlush: (() => void) | null = null;

  constructor(socket: Socket) {
    this.socket = socket;
    this.writer = new SocketWriter(socket);
  }

  setPeerTableSize(n: number): void {
    this.encoder.setPeerMaxTableSize(n);
  }

  /** Make sure a flush runs at the end of this turn (the connection has deferred stream events). */
  schedule(): void {
    this.room(0);
  }

  /** Room for `n` more bytes; returns the offset to write at. */
  private room(n: number): number {
    const need = this.len + n;
    if (need > this.buf.length) {
      const b = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(b, 0, 0, this.len);
      this.buf = b;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      flushAtEndOfTurn(this);
    }
    return this.len;
  }

  /** Bytes appended this turn not yet written. */
  get pending(): number {
    return this.len;
  }

  frame(type: number, flags: number, streamId: number, payload: Buffer | null, start = 0, end = payload === null ? 0 : payload.length): void {
    const n = end - start;
    const at = this.room(FRAME_HEADER + n);
    putFrameHeader(this.buf, at, n, type, flags, streamId);
    if (payload !== null && n > 0) payload.copy(this.buf, at + FRAME_HEADER, start, end);
    this.len = at + FRAME_HEADER + n;
  }

  /** A frame whose payload is 4 bytes (RST_STREAM, WINDOW_UPDATE). */
  private frame32(type: number, streamId: number, value: number): void {
    const at = this.room(FRAME_HEADER + 4);
    putFrameHeader(this.buf, at, 4, type, 0, streamId);
    this.buf.writeUInt32BE(value >>> 0, at + FRAME_HEADER);
    this.len = at + FRAME_HEADER + 4;
  }

  rst(streamId: number, code: number): void {
    this.frame32(RST_STREAM, streamId, code);
  }

  windowUpdate(streamId: number, increment: number): void {
    this.frame32(WINDOW_UPDATE, streamId, increment);
  }

  settings(pairs: readonly number[]): void {
    const at = this.room(FRAME_HEADER + pairs.length * 3);
    putFrameHeader(this.buf, at, pairs.length * 3, SETTINGS, 0, 0);
    let o = at + FRAME_HEADER;
    for (let i = 0; i < pairs.length; i += 2) {
      this.buf.writeUInt16BE(pairs[i] as number, o);
      this.buf.writeUInt32BE(pairs[i + 1] as number, o + 2);
      o += 6;
    }
    this.len = o;
  }

  settingsAck(): void {
    this.frame(SETTINGS, FLAG_ACK, 0, null);
  }

  pingAck(payload: Buffer, start: number): void {
    this.frame(PING, FLAG_ACK, 0, payload, start, start + 8);
  }

  goaway(lastStreamId: number, code: number): void {
    const at = this.room(FRAME_HEADER + 8);
    putFrameHeader(this.buf, at, 8, GOAWAY, 0, 0);
    this.buf.writeUInt32BE(lastStreamId, at + FRAME_HEADER);
    this.buf.writeUInt32BE(code, at + FRAME_HEADER + 4);
    this.len = at + FRAME_HEADER + 8;
  }

  data(streamId: number, chunk: Buffer, start: number, end: number): void {
    this.lastData = this.len;
    this.lastDataStream = streamId;
    this.frame(DATA, 0, streamId, chunk, start, end);
  }

  /**
   * END_STREAM on `streamId`: set on its DATA frame when that is the last frame appended (a body
   * and its end in one turn: one frame, not two), else an empty DATA frame.
   */
  endStream(streamId: number): void {
    if (this.lastDataStream === streamId && this.lastData >= 0 && this.lastData + FRAME_HEADER + this.buf.readUIntBE(this.lastData, 3) === this.len) {
      this.buf[this.lastData + 4] = FLAG_END_STREAM;
      this.lastData = -1;
      return;
    }
    this.frame(DATA, FLAG_END_STREAM, streamId, null);
  }

  /** A header block (HEADERS, then CONTINUATION frames when it is larger than the peer's frame size). */
  headers(streamId: number, fields: readonly string[], endStream: boolean): void {
    let at = this.room(FRAME_HEADER + 256);
    let end = this.encoder.encode(fields, this.buf, at + FRAME_HEADER);
    while (end < 0) {
      this.room(this.buf.length - this.len + FRAME_HEADER + 4096);
      at = this.len;
      end = this.encoder.encode(fields, this.buf, at + FRAME_HEADER);
    }
    const block = end - at - FRAME_HEADER;
    const flags = endStream ? FLAG_END_STREAM : 0;
    if (block <= this.maxFrame) {
      putFrameHeader(this.buf, at, block, HEADERS, flags | FLAG_END_HEADERS, streamId);
      this.len = end;
      return;
    }
    // Larger than one frame: split the encoded block (rare: a head over 16 KB).
    const copy = Buffer.from(this.buf.subarray(at + FRAME_HEADER, end));
    this.len = at;
    let o = 0;
    let type = HEADERS;
    while (o < copy.length) {
      const n = Math.min(this.maxFrame, copy.length - o);
      const last = o + n === copy.length;
      this.frame(type, (type === HEADERS ? flags : 0) | (last ? FLAG_END_HEADERS : 0), streamId, copy, o, o + n);
      o += n;
      type = CONTINUATION;
    }
  }

  /** Write the turn's bytes now. */
  flush(): void {
    this.scheduled = false;
    const n = this.len;
    this.lastData = -1;
    if (n > 0) {
      this.len = 0;
      const s = this.socket;
      if (!s.destroyed) {
        // A TLS socket's stream may keep what it is given: it gets a copy of the turn's bytes.
        const tls = (s as Socket & { encrypted?: boolean }).encrypted === true;
        const out = tls ? Buffer.from(this.buf.subarray(0, n)) : this.buf.subarray(0, n);
        const ok = this.writer.write(out);
        if (!ok) this.congested = true;
        // The buffer stays with a write that waits: the next turn takes a new one.
        if ((!tls && (!ok || this.writer.queued)) || this.buf.length > KEEP_AT_MOST) this.buf = Buffer.allocUnsafe(INITIAL_SIZE);
      }
    }
    this.onFlush?.();
  }
}
