// `amime proxy --config FILE`: the ProxyConfig file (JSON, or YAML), read and parsed so that the
// start's memory peak holds the file once (issue 15).
//
// `fs.readFile(file, "utf8")` gave the file's bytes (a Buffer) and its text (an external string for
// ASCII), 4.3 MB each with 1,000 services, both alive until a major collection, which the start
// never ran: they set the sidecar's high-water mark at its ready line (RSS 81–87 MB). Here the
// bytes go into one buffer of the file's size whose memory is handed back as soon as they are decoded
// (`ArrayBuffer#transfer(0)`, no collection needed); with `gc` (the sidecar's --expose-gc), one
// collection frees the text after the parse. The sidecar pins glibc's mmap threshold
// (`MALLOC_MMAP_THRESHOLD_`, src/core/sidecar-node-flags.ts), so both the buffer and an external
// string are mappings of their own, unmapped when freed: no freed block is left in malloc's heap.
// (Session 9 read 64 KB pieces and joined them, which needed a second collection to free the
// pieces before the parse: ≈ 8 ms more of the 1,000-service start, docs/performance.md "Session 11".)
import { fs } from "../../core/builtins.ts";

/**
 * The config file's value. `gc`: a synchronous major collection after the parse (≈ 10–15 ms with
 * 1,000 services); without it the text waits for V8's own collections.
 */
export async function loadProxyConfigFile(file: string, gc?: () => void): Promise<unknown> {
  let text = await readTextFile(file);
  const value = await parseConfigText(file, text);
  text = "";
  gc?.();
  return value;
}

async function parseConfigText(file: string, text: string): Promise<unknown> {
  if (file.endsWith(".json") || text.trimStart().startsWith("{")) return JSON.parse(text);
  // Loaded only for a YAML file: a JSON config (what the bench and most tests use) skips it.
  const { parse } = await import("yaml");
  return parse(text);
}

/**
 * A UTF-8 file's text (as `fs.readFile(file, "utf8")`), read into one buffer of the file's size
 * (at least `minBytes`; doubled while a file that grew, or a pipe, still has bytes) that is freed
 * as soon as it is decoded.
 */
export async function readTextFile(file: string, minBytes = 64 * 1024): Promise<string> {
  const fd = await new Promise<number>((resolve, reject) => fs.open(file, "r", (e, d) => (e ? reject(e) : resolve(d))));
  let buf: Buffer | undefined;
  try {
    const size = await new Promise<number>((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(e) : resolve(st.size))));
    // One byte more than the file: the read that finds its end needs room.
    buf = Buffer.allocUnsafeSlow(Math.max(minBytes, size + 1));
    let end = 0;
    for (;;) {
      if (end === buf.length) buf = grown(buf);
      const into = buf;
      const n = await new Promise<number>((resolve, reject) => fs.read(fd, into, end, into.length - end, null, (e, k) => (e ? reject(e) : resolve(k))));
      if (n === 0) break;
      end += n;
    }
    return buf.toString("utf8", 0, end);
  } finally {
    if (buf !== undefined) release(buf);
    await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }
}

/** A buffer twice as large holding `buf`'s bytes; `buf`'s memory is freed. */
function grown(buf: Buffer): Buffer {
  const next = Buffer.allocUnsafeSlow(buf.length * 2);
  buf.copy(next);
  release(buf);
  return next;
}

/** Frees the memory of a buffer from Buffer.allocUnsafeSlow (its own ArrayBuffer) now, not at a collection. */
function release(buf: Buffer): void {
  // ES2024's ArrayBuffer#transfer (Node 24), past the project's ES2023 library types.
  (buf.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
}
