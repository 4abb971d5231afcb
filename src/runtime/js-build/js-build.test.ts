import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildJsTree, rewriteSpecifiers, toJavaScript, type BuildResult } from "./js-build.ts";

describe("rewriteSpecifiers", () => {
  const cases: [string, string][] = [
    [`import { a } from "./a.ts";`, `import { a } from "./a.js";`],
    [`import b from '../b/c.ts';`, `import b from '../b/c.js';`],
    [`export * from "./x.ts";`, `export * from "./x.js";`],
    [`export { y } from "./y.ts";`, `export { y } from "./y.js";`],
    [`import {\n  p,\n  q,\n} from "./multi.ts";`, `import {\n  p,\n  q,\n} from "./multi.js";`],
    [`const m = await import("./lazy.ts");`, `const m = await import("./lazy.js");`],
    [`import "./side-effect.ts";`, `import "./side-effect.js";`],
    // Packages, built-ins and non-module paths stay as they are.
    [`import protobuf from "protobufjs";`, `import protobuf from "protobufjs";`],
    [`import { join } from "node:path";`, `import { join } from "node:path";`],
    [`const ext = ".ts";`, `const ext = ".ts";`],
    [`new URL("./proto/", import.meta.url)`, `new URL("./proto/", import.meta.url)`],
    [`if (name.endsWith(".test.ts")) skip();`, `if (name.endsWith(".test.ts")) skip();`],
  ];
  for (const [input, output] of cases) {
    it(JSON.stringify(input), () => assert.equal(rewriteSpecifiers(input), output));
  }
});

describe("toJavaScript", () => {
  it("blanks types out in place: same lines and columns, so stack traces point into the .ts file", () => {
    const source = `import type { T } from "./t.ts";\nimport { f } from "./f.ts";\nexport function g(x: number, t?: T): string {\n  return f(x) as string;\n}\n`;
    const js = toJavaScript(source);
    assert.equal(js.split("\n").length, source.split("\n").length);
    const at = (text: string, part: string): [number, number] => {
      const lines = text.split("\n");
      const line = lines.findIndex((l) => l.includes(part));
      return [line, lines[line]!.indexOf(part)];
    };
    assert.deepEqual(at(js, "return f(x)"), at(source, "return f(x)"));
    assert.match(js, /import \{ f \} from "\.\/f\.js";/);
    assert.doesNotMatch(js, /: number|: string|import type/);
  });

  it("takes comments out, code staying at its line and column (blank-comments.ts)", () => {
    const source = `// header — ≈\n/** Doc → */\nexport const url = "http://x"; // tail\nexport const n = /* two */ 2;\n`;
    const js = toJavaScript(source);
    assert.equal(js, `\n\nexport const url = "http://x";\nexport const n =           2;\n`);
    // No character outside Latin-1 left: V8 keeps the module's source as a one-byte string.
    assert.doesNotMatch(js, /[^\x00-\xff]/);
  });
});

const counts = ({ written, unchanged, removed }: BuildResult): Omit<BuildResult, "fingerprint"> => ({ written, unchanged, removed });

describe("buildJsTree", () => {
  let dir: string;
  let src: string;
  let out: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "amime-js-build-"));
    src = join(dir, "src");
    out = join(dir, "dist");
    await mkdir(join(src, "lib", "proto"), { recursive: true });
    await writeFile(join(src, "main.ts"), `import { twice } from "./lib/twice.ts";\nconst { label } = await import("./lib/label.ts");\nconst n: number = twice(21);\nprocess.stdout.write(label(n));\n`);
    await writeFile(join(src, "lib", "twice.ts"), `export function twice(n: number): number {\n  return n * 2;\n}\n`);
    await writeFile(join(src, "lib", "label.ts"), `export const label = (n: number): string => \`answer \${n}\\n\`;\n`);
    await writeFile(join(src, "lib", "twice.test.ts"), `throw new Error("tests are not built");\n`);
    await writeFile(join(src, "lib", "proto", "x.proto"), `syntax = "proto3";\n`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("writes a tree Node runs as plain JavaScript: types stripped, .ts specifiers as .js, other files copied, tests left out", async () => {
    const r = await buildJsTree(src, out);
    assert.deepEqual(counts(r), { written: 4, unchanged: 0, removed: 0 });
    assert.equal(await readFile(join(out, "lib", "proto", "x.proto"), "utf8"), `syntax = "proto3";\n`);
    assert.equal(existsSync(join(out, "lib", "twice.test.js")), false);
    assert.equal(existsSync(join(out, "lib", "twice.test.ts")), false);
    // Readable by the netns sidecars' UID 1337 whatever the umask.
    assert.equal((await stat(join(out, "lib", "twice.js"))).mode & 0o777, 0o644);
    assert.equal((await stat(join(out, "lib"))).mode & 0o777, 0o755);
    // Run by a real Node that refuses TypeScript: anything still .ts would fail to load.
    const run = spawnSync(process.execPath, ["--no-experimental-strip-types", join(out, "main.js")], { encoding: "utf8" });
    assert.equal(run.stderr, "");
    assert.equal(run.stdout, "answer 42\n");
  });

  it("is incremental: an up-to-date tree writes nothing; an edited source is written again; a removed one is removed", async () => {
    const first = await buildJsTree(src, out);
    const same = await buildJsTree(src, out);
    assert.deepEqual(counts(same), { written: 0, unchanged: 4, removed: 0 });
    assert.equal(same.fingerprint, first.fingerprint);
    await writeFile(join(src, "lib", "twice.ts"), `export function twice(n: number): number {\n  return n + n;\n}\n`);
    // A modification time that differs from the copy's, whatever the file system's resolution.
    const later = new Date(Date.now() + 5000);
    await utimes(join(src, "lib", "twice.ts"), later, later);
    const edited = await buildJsTree(src, out);
    assert.deepEqual(counts(edited), { written: 1, unchanged: 3, removed: 0 });
    assert.notEqual(edited.fingerprint, first.fingerprint);
    assert.match(await readFile(join(out, "lib", "twice.js"), "utf8"), /return n \+ n;/);
    await rm(join(src, "lib", "label.ts"));
    await writeFile(join(src, "main.ts"), `import { twice } from "./lib/twice.ts";\nprocess.stdout.write(String(twice(2)));\n`);
    await utimes(join(src, "main.ts"), later, later);
    assert.deepEqual(counts(await buildJsTree(src, out)), { written: 1, unchanged: 2, removed: 1 });
    assert.equal(existsSync(join(out, "lib", "label.js")), false);
  });

  it("leaves the directory it is told to keep (the bundle) alone", async () => {
    await mkdir(join(out, "bundle"), { recursive: true });
    await writeFile(join(out, "bundle", "run.js"), "");
    assert.equal((await buildJsTree(src, out, join(out, "bundle"))).removed, 0);
    assert.equal(existsSync(join(out, "bundle", "run.js")), true);
    assert.equal((await buildJsTree(src, out)).removed, 1);
  });
});
