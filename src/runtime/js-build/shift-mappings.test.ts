import assert from "node:assert/strict";
import { SourceMap, type SourceMapPayload } from "node:module";
import { describe, it } from "node:test";
import { transform } from "esbuild";
import { dropSpaces } from "./drop-spaces.ts";
import { shiftMappings } from "./shift-mappings.ts";

/** The source position a map gives a generated line and column (0-based). */
function original(map: SourceMap, line: number, column: number): unknown[] {
  const e = map.findEntry(line, column);
  return "originalLine" in e ? [e.originalSource, e.originalLine, e.originalColumn] : [];
}

describe("shiftMappings", () => {
  it("maps each character of the file without its spaces to the source position the original map gave it", async () => {
    // esbuild's print (indented, spaces around operators) and its map; a long line for columns of several VLQ digits.
    const source = [
      "export function f(a: number, b: number): number {",
      "  if (a === b) {",
      "    return a + b;",
      "  }",
      `  const long = [${Array.from({ length: 200 }, (_, i) => `a * ${i}`).join(", ")}];`,
      "  return long.length - b;",
      "}",
      "",
    ].join("\n");
    const printed = await transform(source, { loader: "ts", sourcemap: "external", sourcefile: "f.ts" });
    const before = printed.code;
    const after = dropSpaces(before);
    assert.ok(after.length < before.length * 0.8);
    const json = JSON.parse(printed.map) as SourceMapPayload;
    const was = new SourceMap(json);
    const is = new SourceMap({ ...json, mappings: shiftMappings(json.mappings, before, after) });
    const from = before.split("\n");
    const to = after.split("\n");
    let checked = 0;
    from.forEach((line, l) => {
      let j = 0;
      for (let i = 0; i < line.length; i++) {
        if (line[i] !== to[l]![j]) continue;
        j++;
        if (line[i] === " ") continue;
        assert.deepEqual(original(is, l, j - 1), original(was, l, i), `line ${l + 1}, column ${i + 1}: ${line.slice(i, i + 20)}`);
        checked++;
      }
    });
    assert.ok(checked > 1000, `${checked} characters`);
  });

  it("refuses a file whose lines moved, or whose code changed", () => {
    assert.throws(() => shiftMappings("AAAA", "a;\nb;\n", "a;b;\n"), /moved lines: 3 lines before, 2 after/);
    assert.throws(() => shiftMappings("AAAA", "a + b;\n", "a-b;\n"), /changed the code at column 2/);
  });
});
