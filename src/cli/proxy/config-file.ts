// `amime proxy --config FILE`: the ProxyConfig file (JSON, or YAML), read and parsed so that the
// start's memory peak holds the file once (issue 15).
//
// `fs.readFile(file, "utf8")` gave the file's bytes (a Buffer) and its text (an external string for
// ASCII), 4.3 MB each with 1,000 services, both malloc'd and both alive until a major collection,
// which the start never ran: they set the sidecar's high-water mark at its ready line (RSS 81–87 MB).
// Here the file is read 64 KB at a time into one small buffer, each piece decoded to a string on V8's
// heap and the pieces joined; with `gc` (the sidecar's --expose-gc), a collection frees the pieces
// before the parse and another frees the text after it. No large malloc'd block is ever freed, so
// glibc keeps its 128 KB mmap threshold (freeing a 4.3 MB Buffer early raised it to 4.3 MB and the
// start's later allocations stayed in its heap: +1 to +2.3 MB at rest, docs/performance.md).
import { fs } from "../../core/builtins.ts";

const PIECE = 64 * 1024;

/**
 * The config file's value. `gc`: a synchronous major collection, run twice (≈ 10–20 ms each with
 * 1,000 services); without it the garbage waits for V8's own collections.
 */
export async function loadProxyConfigFile(file: string, gc?: () => void): Promise<unknown> {
  let text = await readTextFile(file);
  gc?.();
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

/** A UTF-8 file's text (as `fs.readFile(file, "utf8")`), read `pieceBytes` at a time. */
export async function readTextFile(file: string, pieceBytes = PIECE): Promise<string> {
  const fd = await new Promise<number>((resolve, reject) => fs.open(file, "r", (e, d) => (e ? reject(e) : resolve(d))));
  try {
    const buf = Buffer.allocUnsafeSlow(Math.max(4, pieceBytes));
    const pieces: string[] = [];
    let held = 0; // bytes of an unfinished UTF-8 sequence carried to the front of buf
    for (;;) {
      const n = await new Promise<number>((resolve, reject) => fs.read(fd, buf, held, buf.length - held, null, (e, k) => (e ? reject(e) : resolve(k))));
      const end = held + n;
      if (n === 0) {
        if (held > 0) pieces.push(buf.toString("utf8", 0, held));
        break;
      }
      const cut = completeUtf8(buf, end);
      pieces.push(buf.toString("utf8", 0, cut));
      buf.copy(buf, 0, cut, end);
      held = end - cut;
    }
    return pieces.join("");
  } finally {
    await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }
}

/** Where the last complete UTF-8 sequence of buf[0, end) ends (a sequence cut by the read stays out). */
function completeUtf8(buf: Buffer, end: number): number {
  let lead = end - 1;
  while (lead > 0 && end - lead < 4 && ((buf[lead] as number) & 0xc0) === 0x80) lead--;
  const b = buf[lead] as number;
  const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return end - lead < length ? lead : end;
}
