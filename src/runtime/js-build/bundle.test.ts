import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundleTree, rewriteImportMeta, type BundlePaths } from "./bundle.ts";
import { buildJsTree } from "./js-build.ts";

describe("rewriteImportMeta", () => {
  it("makes a module's url, dirname and filename name its file in the tree, relative to the chunk", () => {
    const code = `const a = new URL("./proto/", import.meta.url);\nconst b = import.meta.dirname;\nconst c = import.meta.filename;\n`;
    assert.equal(
      rewriteImportMeta(code, "../proxy/otlp/protos.js"),
      `const a = new URL("./proto/", new URL("../proxy/otlp/protos.js", import.meta.url).href);\n` +
        `const b = process.getBuiltinModule("node:path").join(import.meta.dirname, "../proxy/otlp");\n` +
        `const c = process.getBuiltinModule("node:path").join(import.meta.dirname, "../proxy/otlp/protos.js");\n`,
    );
  });

  it("refuses any other use of import.meta, naming the file", () => {
    assert.throws(() => rewriteImportMeta(`const r = import.meta.resolve("x");\n`, "../a/b.js"), /\.\.\/a\/b\.js: import\.meta used other than/);
  });
});

describe("bundleTree", () => {
  let dir: string;
  let paths: BundlePaths;
  const run = (flags: string[] = [], arg?: string) => spawnSync(process.execPath, [...flags, join(paths.bundle, "main.js"), ...(arg === undefined ? [] : [arg])], { encoding: "utf8" });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "amime-bundle-"));
    const src = join(dir, "src");
    const out = join(dir, "dist");
    paths = { src, out, input: join(out, "main.js"), bundle: join(out, "bundle") };
    await mkdir(join(src, "lib", "data"), { recursive: true });
    // A lazy import, an import cycle with a live binding (step() sees count after the first bump: 41 + 1), a file read next to its module, and a throw for the stack.
    await writeFile(
      join(src, "main.ts"),
      `import { count, bump } from "./lib/counter.ts";\nimport { dataText } from "./lib/data.ts";\nbump();\nbump();\nconst out: string[] = [String(count), dataText()];\n` +
        `if (process.argv.includes("lazy")) out.push((await import("./lib/lazy.ts")).lazy());\nif (process.argv.includes("throw")) (await import("./lib/boom.ts")).boom();\nprocess.stdout.write(out.join(" "));\n`,
    );
    await writeFile(join(src, "lib", "counter.ts"), `import { step } from "./step.ts";\nexport let count: number = 0;\nexport function bump(): void {\n  count += step();\n}\n`);
    await writeFile(join(src, "lib", "step.ts"), `import { count } from "./counter.ts";\nexport const step = (): number => (count === 0 ? 41 : 1);\n`);
    await writeFile(join(src, "lib", "data.ts"), `import { readFileSync } from "node:fs";\nexport const dataText = (): string => readFileSync(new URL("./data/x.txt", import.meta.url), "utf8").trim();\n`);
    await writeFile(join(src, "lib", "data", "x.txt"), "from-the-tree\n");
    await writeFile(join(src, "lib", "lazy.ts"), `export const lazy = (): string => "lazy-loaded";\n`);
    await writeFile(join(src, "lib", "boom.ts"), `// Line 2 throws, column 9.\nexport function boom(): never {\n  throw new Error("boom");\n}\n`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("bundles the tree's entry: live bindings across a cycle, files beside their module, lazy imports in chunks of their own", async () => {
    const tree = await buildJsTree(paths.src, paths.out, paths.bundle);
    assert.equal(await bundleTree(paths, tree.fingerprint), true);
    const plain = run();
    assert.equal(plain.stderr, "");
    assert.equal(plain.stdout, "42 from-the-tree");
    assert.equal(run([], "lazy").stdout, "42 from-the-tree lazy-loaded");
    const files = await readdir(paths.bundle);
    const chunks = files.filter((f) => f.endsWith(".js"));
    assert.ok(chunks.some((f) => f.startsWith("lazy-")), `the lazy module has its own chunk: ${chunks.join(" ")}`);
    assert.doesNotMatch(await readFile(join(paths.bundle, "main.js"), "utf8"), /lazy-loaded/);
    // Readable by the netns sidecars' UID 1337 whatever the umask.
    assert.equal((await stat(join(paths.bundle, "main.js"))).mode & 0o777, 0o644);
    assert.equal((await stat(paths.bundle)).mode & 0o777, 0o755);
  });

  it("names the .ts sources in stack traces under --enable-source-maps, and only there", async () => {
    const mapped = run(["--enable-source-maps"], "throw");
    assert.match(mapped.stderr, /src\/lib\/boom\.ts:3:9/);
    const bare = run([], "throw");
    assert.match(bare.stderr, /Error: boom/);
    assert.doesNotMatch(bare.stderr, /boom\.ts/);
  });

  it("takes the spaces out of its files, lines kept: a stack trace without source maps names the line that threw, which reads as code", async () => {
    const bare = run([], "throw");
    const at = /\(file:\/\/([^()]+\.js):(\d+):(\d+)\)/.exec(bare.stderr);
    assert.ok(at !== null, bare.stderr);
    const line = (await readFile(at[1]!, "utf8")).split("\n")[Number(at[2]) - 1]!;
    assert.equal(line, `throw new Error("boom");`);
    assert.equal(line.slice(Number(at[3]) - 1), `new Error("boom");`);
    for (const f of (await readdir(paths.bundle)).filter((f) => f.endsWith(".js"))) {
      assert.doesNotMatch(await readFile(join(paths.bundle, f), "utf8"), /^[ \t]/m, f);
    }
  });

  it("two bundles asked for at once in one process both succeed (each stops esbuild's service after it)", async () => {
    const tree = await buildJsTree(paths.src, paths.out, paths.bundle);
    const other: BundlePaths = { ...paths, bundle: join(dir, "dist-other-bundle") };
    await rm(join(paths.bundle, ".amime-bundle"));
    assert.deepEqual(await Promise.all([bundleTree(paths, tree.fingerprint), bundleTree(other, tree.fingerprint)]), [true, true]);
    assert.equal(run().stdout, "42 from-the-tree");
  });

  it("is written again only when the tree changed, and its stale chunks are removed", async () => {
    const tree = await buildJsTree(paths.src, paths.out, paths.bundle);
    assert.equal(await bundleTree(paths, tree.fingerprint), false);
    const before = new Set(await readdir(paths.bundle));
    await writeFile(join(paths.src, "lib", "lazy.ts"), `export const lazy = (): string => "lazy-edited";\n`);
    const later = new Date(Date.now() + 5000);
    await utimes(join(paths.src, "lib", "lazy.ts"), later, later);
    const edited = await buildJsTree(paths.src, paths.out, paths.bundle);
    assert.equal(await bundleTree(paths, edited.fingerprint), true);
    assert.equal(run([], "lazy").stdout, "42 from-the-tree lazy-edited");
    const now = await readdir(paths.bundle);
    const oldLazy = [...before].find((f) => f.startsWith("lazy-") && f.endsWith(".js"))!;
    assert.equal(existsSync(join(paths.bundle, oldLazy)), false);
    assert.equal(now.filter((f) => f.startsWith("lazy-") && f.endsWith(".js")).length, 1);
  });
});
