// FrameReader: HTTP/2 frames out of a socket's reads — the client preface first (then a SETTINGS
// frame, RFC 9113 §3.4), then 9-byte headers and payloads, however the reads split them. A frame
// cut by a read waits (the pieces are joined once it is complete). Header blocks are put together
// here: HEADERS (padding and priority fields removed) and its CONTINUATION frames, with nothing
// else allowed in between; the complete block goes to onHeaderBlock, every other frame to onFrame.
import { Buffer } from "node:buffer";
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

  protected abstract onFrame(type: number, flags: number, id: number, b: Buffer, start: number, end: number): void;
  /** A complete header block; `selfDependent`: its priority fields named its own stream (a stream error once decoded). */
  protected abstract onHeaderBlock(flags: number, id: number, block: Buffer, start: number, end: number, selfDependent: boolean): void;
  protected abstract connectionError(code: number): void;
  /** An empty frame that carries nothing (a flood sign): false when the connection is closed for it. */
  protected abstract onEmptyFrame(): boolean;
  protected abstract isClosed(): boolean;
  protected abstract get maxHeaderBlock(): number;

  protected read(chunk: Buffer): void {
    if (this.isClosed()) return;
    let b = chunk;
    if (this.rest !== null) {
      b = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let o = 0;
    if (this.prefaceSeen < F.PREFACE_LENGTH) {
      while (this.prefaceSeen < F.PREFACE_LENGTH && o < b.length) {
        if (b[o] !== PREFACE[this.prefaceSeen]) return this.connectionError(F.PROTOCOL_ERROR);
        this.prefaceSeen++;
        o++;
      }
      if (this.prefaceSeen < F.PREFACE_LENGTH) return;
    }
    const n = b.length;
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
    if (o < n) this.rest = o === 0 ? b : b.subarray(o);
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
    if (type === F.CONTINUATION) return this.connectionError(F.PROTOCOL_ERROR);
    if (type !== F.HEADERS) return this.onFrame(type, flags, id, b, start, end);
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
