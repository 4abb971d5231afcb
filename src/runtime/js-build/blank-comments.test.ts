import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { stripTypes } from "../../core/strip-types.ts";
import { blankComments } from "./blank-comments.ts";

// swc's "transform" mode prints the module from its syntax tree without comments: two sources that
// print the same hold the same program. (stripTypes once first: Node's one-time warning, silenced.)
stripTypes("");
const program = (code: string): string => stripTypeScriptTypes(code, { mode: "transform" });

// Every character of the result but blanks sits at the same line and column as in the input.
function assertSamePositions(input: string, output: string): void {
  const a = input.split("\n");
  const b = output.split("\n");
  assert.equal(b.length, a.length, "same number of lines");
  b.forEach((line, i) => {
    for (let j = 0; j < line.length; j++) {
      if (line[j] !== " " && line[j] !== "\t") assert.equal(a[i]![j], line[j], `line ${i + 1}, column ${j + 1}: ${JSON.stringify(line)}`);
    }
  });
}

describe("blankComments", () => {
  const cases: [string, string, string][] = [
    ["a line comment, with the spaces before it", "const a = 1; // one\nconst b = 2;\n", "const a = 1;\nconst b = 2;\n"],
    ["a line of comment only, indented", "if (x) {\n  // why\n  go();\n}\n", "if (x) {\n\n  go();\n}\n"],
    ["a block comment before code on its line keeps the code's column", "f(/* n */ 1);\n", "f(        1);\n"],
    ["a block comment over lines keeps its newlines and the column after it", "/**\n * doc — ≈\n */ export const x = 1;\n", "\n\n    export const x = 1;\n"],
    ["a doc comment before a function", "/** Doc → */\nexport function f() {}\n", "\nexport function f() {}\n"],
    ["comment markers in strings stay", `const s = "// not" + '/* no */';\n`, `const s = "// not" + '/* no */';\n`],
    ["escaped quotes in strings", `const s = "a\\"// b"; // c\n`, `const s = "a\\"// b";\n`],
    ["comment markers in a template literal stay", "const t = `http://x/* ${y} */`; // c\n", "const t = `http://x/* ${y} */`;\n"],
    ["a comment in a template literal's code goes", "const t = `a${/* c */ b}// c`;\n", "const t = `a${        b}// c`;\n"],
    ["nested template literals and braces", "const t = `a${f({ k: `b${c}//` })}//`; // x\n", "const t = `a${f({ k: `b${c}//` })}//`;\n"],
    ["a regular expression with // and /*", "const r = /https?:\\/\\/[^/*]+/g; // c\n", "const r = /https?:\\/\\/[^/*]+/g;\n"],
    ["a regular expression with / in a class", "const r = /[/]*x/; /* c */\n", "const r = /[/]*x/;\n"],
    ["a regular expression after return", "function f(s) { return /\\/\\*/.test(s); } // c\n", "function f(s) { return /\\/\\*/.test(s); }\n"],
    ["a regular expression in a template literal's code", "const t = `${/a\\/\\/b/.source}`; // c\n", "const t = `${/a\\/\\/b/.source}`;\n"],
    ["division is not a regular expression", "const h = a / 2 / b; // c\nconst i = (a) / 2; /* d */ const j = x[0] / 3;\n", "const h = a / 2 / b;\nconst i = (a) / 2;         const j = x[0] / 3;\n"],
    ["a Unicode space left by type stripping becomes an ASCII space", "const a\u2002= 1;\u2002\n", "const a = 1;\n"],
    ["a shebang line stays", "#!/usr/bin/env node\n// c\nrun();\n", "#!/usr/bin/env node\n\nrun();\n"],
  ];
  for (const [name, input, output] of cases) {
    it(name, () => {
      const result = blankComments(input);
      assert.equal(result, output);
      assertSamePositions(input, result);
    });
  }

  it("leaves the module's behaviour as it was: the tricky inputs still compute the same values", () => {
    const source = [
      "const url = `http://host/${'/*'}path`; // trailing",
      "const re = /\\/\\/x|[/*]/g; /* block */",
      "const half = 10 / 2 / 5;",
      "const nested = `a${`b${'//'}`}c`;",
      "return [url, re.source, half, nested, 'x // y', \"/* z */\"];",
    ].join("\n");
    const run = (code: string): unknown => new Function(code)();
    assert.deepEqual(run(blankComments(source)), run(source));
    assert.deepEqual(run(source), ["http://host//*path", "\\/\\/x|[/*]", 1, "ab//c", "x // y", "/* z */"]);
  });

  it("keeps the program of every source file of src/, and its code at the same lines and columns", () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    let files = 0;
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts") || entry.name.endsWith(".d.ts")) continue;
      const file = join(entry.parentPath, entry.name);
      const js = stripTypes(readFileSync(file, "utf8"));
      const result = blankComments(js);
      assert.equal(program(result), program(js), file);
      assertSamePositions(js, result);
      files++;
    }
    assert.ok(files > 300, `${files} files`);
  });
});
