import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { stripTypes } from "../../core/strip-types.ts";
import { blankComments } from "./blank-comments.ts";
import { dropSpaces } from "./drop-spaces.ts";

// swc's "transform" mode prints the module from its syntax tree: two sources that print the same hold
// the same program. (stripTypes once first: Node's one-time warning, silenced.)
stripTypes("");
const program = (code: string): string => stripTypeScriptTypes(code, { mode: "transform" });

// Every line of the result is its line of the input without some of its spaces and tabs.
function assertSameLines(input: string, output: string): void {
  const a = input.split("\n");
  const b = output.split("\n");
  assert.equal(b.length, a.length, "same number of lines");
  b.forEach((line, i) => assert.equal(line.replace(/[ \t]/g, ""), a[i]!.replace(/[ \t]/g, ""), `line ${i + 1}`));
}

describe("dropSpaces", () => {
  const cases: [string, string, string][] = [
    ["indentation and spaces around punctuators", "function f(a, b) {\n  if (a === b) {\n    return a + b;\n  }\n}\n", "function f(a,b){\nif(a===b){\nreturn a+b;\n}\n}\n"],
    ["a space between two words stays, one of a run", "const  x = typeof  y;\nexport default class A extends B {}\n", "const x=typeof y;\nexport default class A extends B{}\n"],
    ["blanks at a line's end go, empty lines stay", "a(); \t\n\n  \nb();\n", "a();\n\n\nb();\n"],
    ["strings keep their spaces", `const s = "a  b" + 'c \\' d';\n`, `const s="a  b"+'c \\' d';\n`],
    ["template literals keep their text; their code loses its spaces", "const t = `a  ${ f( x ) }  b ${`c  ${ y }`}`;\n", "const t=`a  ${f(x)}  b ${`c  ${y}`}`;\n"],
    ["a template literal over lines", "const t = `\n  two  spaces\n`;\n", "const t=`\n  two  spaces\n`;\n"],
    ["regular expressions keep their spaces", "const r = / a [ /] b /g;\nif (x) return / y /.test(s);\n", "const r=/ a [ /] b /g;\nif(x)return/ y /.test(s);\n"],
    ["division next to a regular expression keeps its space", "const q = a / /x/.source.length;\n", "const q=a/ /x/.source.length;\n"],
    ["signs that would join into ++ or -- keep their space", "const a = b - -c + +d - --e + ++f;\n", "const a=b- -c+ +d- --e+ ++f;\n"],
    ["a number's property keeps the space before its dot", "const s = 1 .toString() + x .y;\n", "const s=1 .toString()+x .y;\n"],
    ["comments are copied as they are", "// dist/proxy/a.js\nconst a = /* @__PURE__ */ f( 1 );  // one  two\n", "// dist/proxy/a.js\nconst a=/* @__PURE__ */f(1);// one  two\n"],
    ["private names and HTML-like comment openers keep their space", "class A { static #x = 1; m() { return a < !b || c-- > d; } }\n", "class A{static #x=1;m(){return a< !b||c-- >d;}}\n"],
    ["a shebang line stays", "#!/usr/bin/env node\n  run( 1 );\n", "#!/usr/bin/env node\nrun(1);\n"],
  ];
  for (const [name, input, output] of cases) {
    it(name, () => {
      const result = dropSpaces(input);
      assert.equal(result, output);
      assertSameLines(input, result);
    });
  }

  it("leaves the tricky inputs computing the same values", () => {
    const source = [
      "let a = 7, b = 2, c = 3, e = 4, f = 5, x = { y: 6 };",
      "const url = `http://host/ ${ '/*' } path`;",
      "const re = / \\/\\/ x | [/* ] /g;",
      "const sum = a - -b + +c - --e + ++f;",
      "const half = 10 / 2 / 5, s = 1 .toString() + x .y, q = a / /x y/.source.length;",
      "return [url, re.source, sum, half, s, q, 'x // y', \"/* z */\", typeof  a, 'k' in x, -a < !b];",
    ].join("\n");
    const run = (code: string): unknown => new Function(code)();
    assert.deepEqual(run(dropSpaces(source)), run(source));
    assert.deepEqual(run(source), ["http://host/ /* path", " \\/\\/ x | [/* ] ", 15, 1, "16", 7 / 3, "x // y", "/* z */", "number", false, true]);
  });

  it("keeps the program of every source file of src/, each line in place", () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    let files = 0;
    let before = 0;
    let after = 0;
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts") || entry.name.endsWith(".d.ts")) continue;
      const file = join(entry.parentPath, entry.name);
      const js = blankComments(stripTypes(readFileSync(file, "utf8")));
      const result = dropSpaces(js);
      assert.equal(program(result), program(js), file);
      assertSameLines(js, result);
      files++;
      before += js.length;
      after += result.length;
    }
    assert.ok(files > 300, `${files} files`);
    assert.ok(after < before * 0.8, `${before} → ${after} characters`);
  });
});
