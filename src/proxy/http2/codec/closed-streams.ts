// ClosedStreams: what a connection remembers of streams no longer open, to answer frames on them as
// RFC 9113 §5.1 asks: frames the client sent before it saw this side's RST_STREAM are ignored (the
// last 32 ids reset here are kept); a HEADERS on an id the client skipped (opening 7 after 1
// implicitly closes 3 and 5, §5.1.1) is a PROTOCOL_ERROR rather than STREAM_CLOSED (the last 16
// skipped ranges are kept: clients number their streams one after another, only a broken one skips).
export class ClosedStreams {
  private readonly resets = new Int32Array(32);
  private resetsAt = 0;
  private readonly skipped: number[] = [];

  /** This side reset stream `id`. */
  reset(id: number): void {
    this.resets[this.resetsAt] = id;
    this.resetsAt = (this.resetsAt + 1) % this.resets.length;
  }

  wasReset(id: number): boolean {
    return this.resets.includes(id);
  }

  /** The client opened `id` after `last`: the ids between were never used. */
  opened(last: number, id: number): void {
    if (id <= last + 2) return;
    if (this.skipped.length >= 32) this.skipped.splice(0, 2);
    this.skipped.push(last + 2, id - 2);
  }

  wasSkipped(id: number): boolean {
    const r = this.skipped;
    for (let i = 0; i < r.length; i += 2) if (id >= (r[i] as number) && id <= (r[i + 1] as number)) return true;
    return false;
  }
}
