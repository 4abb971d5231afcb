// HeaderBlocks: a connection's decoding of the client's header blocks (requests and trailers), one
// after another through one HPACK decoder (../hpack), into one reused field list, with the limits
// node:http2 keeps: the list's size (our SETTINGS_MAX_HEADER_LIST_SIZE) and its number of fields
// (node's maxHeaderListPairs). A block over either is still decoded to its end, so the dynamic
// table stays in step with the client's, and its stream is answered 431; broken HPACK is a
// connection error COMPRESSION_ERROR (RFC 9113 §4.3).
import type { Buffer } from "node:buffer";
import { HeaderListTooLarge, HpackDecoder, HpackError } from "../hpack/index.ts";
import * as F from "./frames.ts";

export class HeaderBlocks {
  /** The last block's fields: name, value, … */
  readonly fields: string[] = [];
  /** The last block was over a limit. */
  tooLarge = false;
  private readonly decoder: HpackDecoder;
  private readonly maxPairs: number;

  constructor(maxHeaderListSize: number, maxPairs: number) {
    this.decoder = new HpackDecoder(4096, maxHeaderListSize);
    this.maxPairs = maxPairs;
  }

  /** Decode one complete block: NO_ERROR, or the connection error code. */
  decode(block: Buffer, start: number, end: number): number {
    const out = this.fields;
    // Emptied by pops, which TurboFan inlines: `length = 0` is a runtime call (the length setter),
    // which also drops the backing store that the next block's pushes then allocate again.
    while (out.length > 0) out.pop();
    this.tooLarge = false;
    try {
      this.decoder.decode(block, start, end, out);
    } catch (e) {
      if (!(e instanceof HeaderListTooLarge)) return e instanceof HpackError ? F.COMPRESSION_ERROR : F.INTERNAL_ERROR;
      this.tooLarge = true;
    }
    if (out.length > this.maxPairs * 2) this.tooLarge = true;
    return F.NO_ERROR;
  }
}
