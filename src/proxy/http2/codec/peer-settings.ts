// The entries of a client's SETTINGS frame (RFC 9113 §6.5.2) applied to what this side sends: the
// HPACK table our encoder may use, every stream's send window (SETTINGS_INITIAL_WINDOW_SIZE moves
// the open streams' windows by its change, §6.9.2) and the largest frame payload. ENABLE_PUSH is
// only checked (this side never pushes); MAX_CONCURRENT_STREAMS (streams this side would open:
// none) and the advisory MAX_HEADER_LIST_SIZE are not used, and unknown settings are ignored
// (§6.5.2). FrameReader checks the frame's stream id, ACK flag and length; the connection sends
// the ACK.
import type { Buffer } from "node:buffer";
import type { H2Output } from "./output.ts";
import type { FlowStream, SendFlow } from "./send-flow.ts";
import * as F from "./frames.ts";

/** applyPeerSettings(): SETTINGS_INITIAL_WINDOW_SIZE came, blocked DATA may go once the ACK is out. */
export const WINDOWS_MOVED = -1;

/** The frame's payload `b[start, end)`, whole 6-byte entries: NO_ERROR, WINDOWS_MOVED, or the connection error code. */
export function applyPeerSettings<S extends FlowStream>(
  b: Buffer,
  start: number,
  end: number,
  output: H2Output,
  flow: SendFlow<S>,
  streams: ReadonlyMap<number, S>,
): number {
  let result: number = F.NO_ERROR;
  for (let o = start; o < end; o += 6) {
    const key = b.readUInt16BE(o);
    const v = b.readUInt32BE(o + 2);
    if (key === F.SETTINGS_HEADER_TABLE_SIZE) output.setPeerTableSize(v);
    else if (key === F.SETTINGS_ENABLE_PUSH) {
      if (v > 1) return F.PROTOCOL_ERROR;
    } else if (key === F.SETTINGS_INITIAL_WINDOW_SIZE) {
      const code = flow.initialWindow(v, streams.values());
      if (code !== F.NO_ERROR) return code;
      result = WINDOWS_MOVED;
    } else if (key === F.SETTINGS_MAX_FRAME_SIZE) {
      if (v < F.DEFAULT_MAX_FRAME || v > F.MAX_FRAME_LIMIT) return F.PROTOCOL_ERROR;
      output.maxFrame = Math.min(v, 64 * 1024);
    }
  }
  return result;
}
