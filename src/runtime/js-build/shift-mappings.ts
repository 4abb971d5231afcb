// A source map's mappings after drop-spaces.ts took spaces out of its generated file: every line is
// where it was, and each segment's generated column moves left by the characters removed before it
// on its line. Only the first field of a segment (its generated column, relative to the previous
// segment of the line) changes; the other fields are relative to the previous segment's and are
// kept as they are (https://tc39.es/ecma426/, "Mappings structure").

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** `mappings` of a map whose generated file was `before`, for the same file as `after` (spaces out, lines in place). */
export function shiftMappings(mappings: string, before: string, after: string): string {
  const from = before.split("\n");
  const to = after.split("\n");
  if (from.length !== to.length) throw new Error(`spaces taken out moved lines: ${from.length} lines before, ${to.length} after`);
  return mappings
    .split(";")
    .map((line, l) => {
      if (line === "") return line;
      const column = newColumns(from[l] ?? "", to[l] ?? "");
      let was = 0;
      let is = 0;
      return line
        .split(",")
        .map((segment) => {
          const [delta, rest] = readVlq(segment);
          was += delta;
          const col = column[Math.min(was, column.length - 1)]!;
          const shifted = writeVlq(col - is) + segment.slice(rest);
          is = col;
          return shifted;
        })
        .join(",");
    })
    .join(";");
}

/** For each column of `from`, its column in `to` (`to` is `from` without some of its spaces and tabs). */
function newColumns(from: string, to: string): Int32Array {
  const column = new Int32Array(from.length + 1);
  let j = 0;
  for (let i = 0; i < from.length; i++) {
    column[i] = j;
    if (j < to.length && from[i] === to[j]) j++;
    else if (from[i] !== " " && from[i] !== "\t") throw new Error(`spaces taken out changed the code at column ${i}: ${JSON.stringify(from.slice(i, i + 40))}`);
  }
  column[from.length] = j;
  return column;
}

/** The first base64 VLQ of `segment` and the index just past it. */
function readVlq(segment: string): [number, number] {
  let value = 0;
  let shift = 0;
  let i = 0;
  for (;;) {
    const digit = DIGIT.get(segment[i++] ?? "");
    if (digit === undefined) throw new Error(`a source map segment that is not base64 VLQ: ${JSON.stringify(segment)}`);
    value += (digit & 31) * 2 ** shift;
    shift += 5;
    if ((digit & 32) === 0) break;
  }
  return [value % 2 === 1 ? -(value - 1) / 2 : value / 2, i];
}

function writeVlq(n: number): string {
  let value = n < 0 ? -n * 2 + 1 : n * 2;
  let s = "";
  do {
    let digit = value % 32;
    value = Math.floor(value / 32);
    if (value > 0) digit |= 32;
    s += BASE64[digit];
  } while (value > 0);
  return s;
}
