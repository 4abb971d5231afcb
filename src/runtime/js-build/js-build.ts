// The JavaScript tree sidecars run from (issue 15). Node 24 strips TypeScript types at load with a
// WebAssembly compiler (amaro) that it instantiates in every process that loads a `.ts` file: ≈ 17 MB
// of RSS before any of our code, and the transform of ≈ 200 modules on every start. A sidecar loaded
// from JavaScript pays neither (docs/performance.md, "Memory and start").
//
// The tree is `src/` with types stripped by Node's own `stripTypeScriptTypes` in "strip" mode, which
// blanks types out in place: every line and column stays where it is in the `.ts` file, so stack
// traces need no source map. Comments are taken out, lines and columns of code kept (blank-comments.ts:
// the sources stay on V8's heap for the process's life). Relative `.ts` specifiers become `.js`; other files (the .proto files
// the gRPC clients load) are copied; tests are left out. Incremental: a file is written again only
// when its source's modification time differs from the copy's (the copy is given the source's),
// and copies whose source is gone are removed, so an up-to-date tree costs one walk (≈ 30–100 ms).
// Each file is written to a temporary name and renamed: two builds at once never leave a torn file.
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile, copyFile, chmod } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname, join, relative, sep } from "node:path";
import { stripTypes } from "../../core/strip-types.ts";
import { blankComments } from "./blank-comments.ts";

/** Bumped when the output of a given source changes (the transform itself): forces a full build. */
export const BUILD_FORMAT = "2";
const STAMP = ".amime-build";

export interface BuildResult {
  /** Files written (transformed or copied) by this build. */
  written: number;
  /** Files already up to date. */
  unchanged: number;
  removed: number;
  /** Changes whenever any file of the tree does (its sources' names and modification times): bundle.ts's up-to-date check. */
  fingerprint: string;
}

// `from "./x.ts"`, `import("./x.ts")`, `import "./x.ts"`: a relative module specifier at an import or
// export position. The codebase's imports are all written this way (verbatimModuleSyntax, no
// require); a string that merely looks like one elsewhere would be rewritten too, which
// rewriteSpecifiers' test pins down as the known edge.
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*?)\.ts\2/g;

/** TypeScript source → the JavaScript module written to the tree (same lines and columns of code, no comments). */
export function toJavaScript(source: string): string {
  return rewriteSpecifiers(blankComments(stripTypes(source)));
}

export function rewriteSpecifiers(code: string): string {
  return code.replace(RELATIVE_TS, "$1$2$3.js$2");
}

/** Build (or bring up to date) the JavaScript tree of `srcDir` in `outDir`; files under `keep` (the bundle) are not the tree's to remove. */
export async function buildJsTree(srcDir: string, outDir: string, keep?: string): Promise<BuildResult> {
  const result: BuildResult = { written: 0, unchanged: 0, removed: 0, fingerprint: "" };
  const sources: string[] = [];
  const stampFile = join(outDir, STAMP);
  const full = (await readFile(stampFile, "utf8").catch(() => "")) !== BUILD_FORMAT;
  const wanted = new Set<string>();
  const dirs = new Set<string>();
  for (const entry of await readdir(srcDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith(".test.ts") || entry.name.endsWith(".d.ts")) continue;
    const from = join(entry.parentPath, entry.name);
    const rel = relative(srcDir, from);
    const isTs = rel.endsWith(".ts");
    const to = join(outDir, isTs ? `${rel.slice(0, -3)}.js` : rel);
    wanted.add(to);
    const source = await stat(from);
    sources.push(`${rel}\t${source.mtimeMs}`);
    const copy = full ? null : await stat(to).catch(() => null);
    // The copy was given the source's time, to within the rounding of utimes' seconds.
    if (copy !== null && Math.abs(copy.mtimeMs - source.mtimeMs) < 1) {
      result.unchanged++;
      continue;
    }
    await openDirectory(outDir, dirname(to), dirs);
    const temp = `${to}.${process.pid}.tmp`;
    if (isTs) await writeFile(temp, toJavaScript(await readFile(from, "utf8")), { mode: 0o644 });
    else await copyFile(from, temp);
    // Readable by every user: netns sidecars run as UID 1337 (src/runtime/netns/proxy-access.ts).
    await chmod(temp, 0o644);
    await utimes(temp, source.atimeMs / 1000, source.mtimeMs / 1000);
    await rename(temp, to);
    result.written++;
  }
  result.removed = await removeStale(outDir, wanted, keep === undefined ? null : keep + sep);
  result.fingerprint = createHash("sha256").update(`${BUILD_FORMAT}\n${sources.sort().join("\n")}`).digest("hex");
  if (full) await writeFile(stampFile, BUILD_FORMAT, { mode: 0o644 });
  return result;
}

/** mkdir -p, each level given 0755 whatever the umask (UID 1337 reads the tree); once per build. */
async function openDirectory(outDir: string, dir: string, done: Set<string>): Promise<void> {
  if (done.has(dir)) return;
  await mkdir(dir, { recursive: true });
  for (let d = dir; d.startsWith(outDir) && !done.has(d); d = dirname(d)) {
    await chmod(d, 0o755);
    done.add(d);
  }
}

async function removeStale(outDir: string, wanted: ReadonlySet<string>, keep: string | null): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(outDir, { recursive: true, withFileTypes: true })) {
    // Another build's file being written (renamed into place in a moment) is not stale.
    if (!entry.isFile() || entry.name === STAMP || entry.name.endsWith(".tmp")) continue;
    const file = join(entry.parentPath, entry.name);
    if (wanted.has(file) || (keep !== null && file.startsWith(keep))) continue;
    await rm(file, { force: true });
    removed++;
  }
  return removed;
}
