// FrameReader: HTTP/2 frames out of a socket's reads — the client preface first (then a SETTINGS
// frame, RFC 9113 §3.4), then 9-byte headers and payloads, however the reads split them. A frame
// cut by a read waits (the pieces are joined once it is complete). Each frame is checked against
// its definition (RFC 9113 §6: on stream 0 or on a stream, its length, a client never pushes)
// before the subclass hears it, one method a type, for what it means. Header blocks are put
// together here: HEADERS (padding and priority fields removed) and its CONTINUATION frames, with
// nothing else allowed in between; the complete block goes to onHeaderBlock. PRIORITY frames are
// checked and dropped (priorities are not used); unknown types are ignored (§4.1).
import { Buffer } from "../../../core/builtins.ts";
import * as F from "./frames.ts";

const PREFACE = Buffer.from(F.PREFACE, "latin1");

export abstract class FrameReader {
  /** Bytes of an incomplete frame (or preface) from earlier reads. */
  private rest: Buffer | null = null;
  private prefaceSeen = 0;
  private settingsSeen = false;
  /** The stream whose header block is being continued (0: none), its flags and fragments. */
  private blockStream = 0;
  private blockFlags = 0;
  private blockSelfDependent = false;
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  /** SETTINGS_MAX_FRAME_SIZE we accept (the protocol default: we do not announce more). */
  private readonly maxFrame = F.DEFAULT_MAX_FRAME;

  /** DATA on stream `id` (not 0): the payload `b[start, end)` with its padding, if FLAG_PADDED. */
  protected abstract onData(flags: number, id: number, b: Buffer, start: number, end: number): void;
  /** A complete header block; `selfDependent`: its priority fields named its own stream (a stream error once decoded). */
  protected abstract onHeaderBlock(flags: number, id: number, block: Buffer, start: number, end: number, selfDependent: boolean): void;
  /** RST_STREAM on stream `id` (not 0). */
  protected abstract onRstStream(id: number): void;
  /** SETTINGS, not an ACK: `b[start, end)` holds whole 6-byte entries. */
  protected abstract onSettings(b: Buffer, start: number, end: number): void;
  /** PING, not an ACK: its 8 bytes of opaque data at `b[start]`. */
  protected abstract onPing(b: Buffer, start: number): void;
  protected abstract onGoaway(): void;
  /** WINDOW_UPDATE for the connection (`id` 0) or a stream; `increment` may be 0 (an error of the window's owner). */
  protected abstract onWindowUpdate(id: number, increment: number): void;
  protected abstract connectionError(code: number): void;
  protected abstract streamError(id: number, code: number): void;
  /** An empty frame that carries nothing (a flood sign): false when the connection is closed for it. */
  protected abstract onEmptyFrame(): boolean;
  protected abstract isClosed(): boolean;
  protected abstract get maxHeaderBlock(): number;

  /**
   * The bytes being read live in a buffer the next read overwrites (a shared read buffer): whatever
   * outlives the call — a frame cut by the read, DATA handed on — is copied (onData's payload too).
   */
  protected borrowed = false;

  /** Bytes this reader may keep (a 'data' chunk, bytes read before it took over the socket). */
  protected read(chunk: Buffer): void {
    if (this.isClosed()) return;
    let b = chunk;
    if (this.rest !== null) {
      b = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    this.frames(b, b.length);
  }

  /** `b[0, n)`, in a buffer the next read overwrites (io/shared-reads.ts): nothing is kept without a copy. */
  protected readBorrowed(b: Buffer, n: number): void {
    if (this.isClosed()) return;
    // A frame cut by the last read: the join is a copy, owned.
    if (this.rest !== null) return this.read(b.subarray(0, n));
    this.borrowed = true;
    try {
      this.frames(b, n);
    } finally {
      this.borrowed = false;
    }
  }

  private frames(b: Buffer, n: number): void {
    let o = 0;
    if (this.prefaceSeen < F.PREFACE_LENGTH) {
      while (this.prefaceSeen < F.PREFACE_LENGTH && o < n) {
        if (b[o] !== PREFACE[this.prefaceSeen]) return this.connectionError(F.PROTOCOL_ERROR);
        this.prefaceSeen++;
        o++;
      }
      if (this.prefaceSeen < F.PREFACE_LENGTH) return;
    }
    while (n - o >= F.FRAME_HEADER) {
      const length = ((b[o] as number) << 16) | ((b[o + 1] as number) << 8) | (b[o + 2] as number);
      if (length > this.maxFrame) return this.connectionError(F.FRAME_SIZE_ERROR);
      const end = o + F.FRAME_HEADER + length;
      if (end > n) break;
      const type = b[o + 3] as number;
      const flags = b[o + 4] as number;
      const id = b.readUInt32BE(o + 5) & F.MAX_WINDOW;
      this.frame(type, flags, id, b, o + F.FRAME_HEADER, end);
      if (this.isClosed()) return;
      o = end;
    }
    if (o < n) this.rest = this.borrowed ? Buffer.from(b.subarray(o, n)) : o === 0 && n === b.length ? b : b.subarray(o, n);
  }

  private frame(type: number, flags: number, id: number, b: Buffer, start: number, end: number): void {
    if (!this.settingsSeen) {
      if (type !== F.SETTINGS || (flags & F.FLAG_ACK) !== 0) return this.connectionError(F.PROTOCOL_ERROR);
      this.settingsSeen = true;
    }
    if (this.blockStream !== 0) {
      if (type !== F.CONTINUATION || id !== this.blockStream) return this.connectionError(F.PROTOCOL_ERROR);
      return this.continuation(flags, b, start, end);
    }
    switch (type) {
      case F.DATA:
        if (id === 0) return this.connectionError(F.PROTOCOL_ERROR);
        return this.onData(flags, id, b, start, end);
      case F.HEADERS:
        return this.headers(flags, id, b, start, end);
      case F.PRIORITY:
        if (id === 0) return this.connectionError(F.PROTOCOL_ERROR);
        if (end - start !== 5) return this.streamError(id, F.FRAME_SIZE_ERROR);
        // Priorities are not used; a stream depending on itself is still an error (RFC 9113 §5.3.1).
        if ((b.readUInt32BE(start) & F.MAX_WINDOW) === id) return this.streamError(id, F.PROTOCOL_ERROR);
        return;
      case F.RST_STREAM:
        if (id === 0) return this.connectionError(F.PROTOCOL_ERROR);
        if (end - start !== 4) return this.connectionError(F.FRAME_SIZE_ERROR);
        return this.onRstStream(id);
      case F.SETTINGS:
        if (id !== 0) return this.connectionError(F.PROTOCOL_ERROR);
        if ((flags & F.FLAG_ACK) !== 0) {
          if (end !== start) this.connectionError(F.FRAME_SIZE_ERROR);
          return;
        }
        if ((end - start) % 6 !== 0) return this.connectionError(F.FRAME_SIZE_ERROR);
        return this.onSettings(b, start, end);
      case F.PUSH_PROMISE:
        // Only a server pushes (RFC 9113 §8.4).
        return this.connectionError(F.PROTOCOL_ERROR);
      case F.PING:
        if (id !== 0) return this.connectionError(F.PROTOCOL_ERROR);
        if (end - start !== 8) return this.connectionError(F.FRAME_SIZE_ERROR);
        if ((flags & F.FLAG_ACK) === 0) this.onPing(b, start);
        return;
      case F.GOAWAY:
        if (id !== 0) return this.connectionError(F.PROTOCOL_ERROR);
        if (end - start < 8) return this.connectionError(F.FRAME_SIZE_ERROR);
        return this.onGoaway();
      case F.WINDOW_UPDATE:
        if (end - start !== 4) return this.connectionError(F.FRAME_SIZE_ERROR);
        return this.onWindowUpdate(id, b.readUInt32BE(start) & F.MAX_WINDOW);
      case F.CONTINUATION:
        return this.connectionError(F.PROTOCOL_ERROR);
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1).
        return;
    }
  }

  /** HEADERS: a complete block, or the first fragment of one. */
  private headers(flags: number, id: number, b: Buffer, start: number, end: number): void {
    if (id === 0) return this.connectionError(F.PROTOCOL_ERROR);
    let s = start;
    let e = end;
    if ((flags & F.FLAG_PADDED) !== 0) {
      if (e - s < 1) return this.connectionError(F.FRAME_SIZE_ERROR);
      const pad = b[s] as number;
      s++;
      if (pad > e - s) return this.connectionError(F.PROTOCOL_ERROR);
      e -= pad;
    }
    let selfDependent = false;
    if ((flags & F.FLAG_PRIORITY) !== 0) {
      if (e - s < 5) return this.connectionError(F.FRAME_SIZE_ERROR);
      // Priorities are ignored; a stream depending on itself is a stream error (RFC 9113 §5.3.1).
      selfDependent = (b.readUInt32BE(s) & F.MAX_WINDOW) === id;
      s += 5;
    }
    if ((flags & F.FLAG_END_HEADERS) !== 0) return this.onHeaderBlock(flags, id, b, s, e, selfDependent);
    if (s === e && !this.onEmptyFrame()) return;
    this.blockStream = id;
    this.blockFlags = flags;
    this.blockSelfDependent = selfDependent;
    this.fragments = [Buffer.from(b.subarray(s, e))];
    this.fragmentBytes = e - s;
  }

  private continuation(flags: number, b: Buffer, start: number, end: number): void {
    if (start === end && (flags & F.FLAG_END_HEADERS) === 0 && !this.onEmptyFrame()) return;
    this.fragmentBytes += end - start;
    if (this.fragmentBytes > this.maxHeaderBlock) return this.connectionError(F.ENHANCE_YOUR_CALM);
    this.fragments.push(Buffer.from(b.subarray(start, end)));
    if ((flags & F.FLAG_END_HEADERS) === 0) return;
    const block = Buffer.concat(this.fragments, this.fragmentBytes);
    const id = this.blockStream;
    this.blockStream = 0;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.onHeaderBlock(this.blockFlags, id, block, 0, block.length, this.blockSelfDependent);
  }
}
