// The sidecar's modules as a few files (issue 15): esbuild bundles the built tree's sidecar entry
// (dist/cli/run-proxy.js) into dist/bundle/, the proxy in one file and each lazy `import()` in a chunk
// of its own (plus the chunks those share), so a sidecar loads a handful of files instead of ≈ 220
// modules. Resolving 220 ESM modules makes Node's path and URL functions hot enough for TurboFan at
// start, and each module keeps ≈ 4.5 KB of loader records: an idle sidecar on the bundle holds ≈ 7 MB
// less RSS (docs/performance.md, "Session 10: a bundle of the sidecar").
//
// Bundled from the tree (plain JavaScript, the code Node runs) rather than from src/, so that the
// bundle's semantics are the tree's: esbuild keeps ESM live bindings and evaluation order, and each
// lazy `import()` stays lazy (its own chunk). Packages stay external (a sidecar loads none). A
// module's `import.meta.url` / `dirname` / `filename` still name its own place in the tree (the .proto
// directories sit there). Each chunk's source map names the `.ts` files (the tree keeps their lines and
// columns): stack traces name them under `--enable-source-maps` (NODE_OPTIONS), which is not a
// sidecar flag: it holds ≈ 7.5 MB more RSS.
//
// The spaces that separate no tokens are taken out of each file, lines kept, its source map shifted
// with it (drop-spaces.ts): ≈ 0.1 MB less source text on each sidecar's heap.
//
// Files are written to a temporary name and renamed, the entry last: two builds at once never leave a
// torn bundle (chunk names are hashes of their content). A stamp holds the tree's fingerprint
// (js-build.ts): an up-to-date bundle costs one read.
import { mkdir, readFile, rename, rm, readdir, writeFile, chmod } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { OutputFile, Plugin, TransformOptions, TransformResult } from "esbuild";
import { dropSpaces } from "./drop-spaces.ts";
import { shiftMappings } from "./shift-mappings.ts";

/** Bumped when the bundle of a given tree changes (the options below): forces a new bundle. */
export const BUNDLE_FORMAT = "2";
const STAMP = ".amime-bundle";

export interface BundlePaths {
  /** The checkout's (or the image's) TypeScript sources, named by the source maps. */
  src: string;
  /** The built tree (js-build.ts). */
  out: string;
  /** The tree's module that is bundled (the sidecar's entry, dist/cli/run-proxy.js). */
  input: string;
  /** Where the bundle is written; its entry keeps the input's name. */
  bundle: string;
}

// One bundle at a time in a process: each build stops esbuild's service (below), which would fail a
// build of another mesh or bench target started beside it.
let queue: Promise<unknown> = Promise.resolve();

/** Bundle the tree unless the bundle already holds this fingerprint of it. True when it was written. */
export function bundleTree(paths: BundlePaths, fingerprint: string): Promise<boolean> {
  const run = queue.then(() => bundleOnce(paths, fingerprint));
  queue = run.catch(() => {});
  return run;
}

async function bundleOnce(paths: BundlePaths, fingerprint: string): Promise<boolean> {
  const stampFile = join(paths.bundle, STAMP);
  const stamp = `${BUNDLE_FORMAT} ${fingerprint}`;
  if ((await readFile(stampFile, "utf8").catch(() => "")) === stamp) return false;
  const { build, transform, stop } = await import("esbuild");
  // esbuild's service process would otherwise live as long as `amime up` does.
  const files = await build({
    entryPoints: [paths.input],
    absWorkingDir: dirname(paths.out),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    packages: "external",
    outdir: paths.bundle,
    write: false,
    sourcemap: "linked",
    sourcesContent: false,
    logLevel: "silent",
    plugins: [treePlaces(paths.bundle)],
  })
    .then((result) => withoutSpaces(result.outputFiles, paths, transform))
    .finally(() => stop());
  const entryName = join(paths.bundle, basename(paths.input));
  await mkdir(paths.bundle, { recursive: true });
  // Readable by every user: netns sidecars run as UID 1337 (src/runtime/netns/proxy-access.ts).
  await chmod(paths.bundle, 0o755);
  const entry = files.get(entryName);
  if (entry === undefined) throw new Error(`esbuild wrote no ${entryName}`);
  files.delete(entryName);
  for (const [file, contents] of files) await writeAtomically(file, contents);
  await writeAtomically(entryName, entry);
  files.set(entryName, entry);
  for (const name of await readdir(paths.bundle)) {
    const file = join(paths.bundle, name);
    if (name !== STAMP && !name.endsWith(".tmp") && !files.has(file)) await rm(file, { force: true });
  }
  await writeAtomically(stampFile, stamp);
  return true;
}

async function writeAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, contents, { mode: 0o644 });
  await chmod(temp, 0o644);
  await rename(temp, file);
}

// `import.meta.url` in a bundled module would name its chunk; each module's is rewritten to name the
// module's own file in the tree, relative to the chunk (so the installation can move).
// The plugin sees code, not syntax: this file spells the words it writes as META so that its own
// strings are not taken for uses (a string holding them elsewhere fails the build, naming the file).
const IMPORT_META = /\bimport\.meta\.(url|dirname|filename)\b/g;
const ANY_IMPORT_META = /\bimport\.meta\b/g;
const META = ["import", "meta"].join(".");

/** esbuild plugin: `import.meta.url`, `.dirname`, `.filename` of each module keep naming its file in the tree. */
export function treePlaces(bundleDir: string): Plugin {
  return {
    name: "amime-tree-places",
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        const code = await readFile(args.path, "utf8");
        if (!code.includes(META)) return { contents: code, loader: "js" };
        return { contents: rewriteImportMeta(code, relative(bundleDir, args.path)), loader: "js" };
      });
    },
  };
}

/** The rewrite of `treePlaces` for one module at `fromBundle` (its path relative to the bundle's directory). */
export function rewriteImportMeta(code: string, fromBundle: string): string {
  if ((code.match(ANY_IMPORT_META)?.length ?? 0) !== (code.match(IMPORT_META)?.length ?? 0)) {
    throw new Error(`${fromBundle}: ${META} used other than as .url, .dirname or .filename, which the bundle cannot keep`);
  }
  const url = fromBundle.split(sep).join("/");
  return code.replace(IMPORT_META, (_, what: string) => {
    if (what === "url") return `new URL(${JSON.stringify(url)}, ${META}.url).href`;
    const path = what === "dirname" ? dirname(fromBundle) : fromBundle;
    return `process.getBuiltinModule("node:path").join(${META}.dirname, ${JSON.stringify(path)})`;
  });
}

type Transform = (code: string, options: TransformOptions) => Promise<TransformResult>;

/** esbuild's files with the spaces out of each chunk (checked: esbuild parses it to the same program) and its source map shifted with it. */
async function withoutSpaces(outputs: OutputFile[], paths: BundlePaths, transform: Transform): Promise<Map<string, string | Uint8Array>> {
  const print = async (code: string): Promise<string> => (await transform(code, { loader: "js", format: "esm", minifyWhitespace: true })).code;
  const chunks = new Map<string, { before: string; after: string }>();
  for (const f of outputs) {
    if (!f.path.endsWith(".js")) continue;
    const after = dropSpaces(f.text);
    if ((await print(after)) !== (await print(f.text))) throw new Error(`${f.path}: taking its spaces out would change its program`);
    chunks.set(f.path, { before: f.text, after });
  }
  const files = new Map<string, string | Uint8Array>();
  for (const f of outputs) {
    const chunk = chunks.get(f.path.endsWith(".map") ? f.path.slice(0, -4) : f.path);
    if (chunk === undefined) files.set(f.path, f.contents);
    else files.set(f.path, f.path.endsWith(".map") ? mapOfTs(f.text, chunk.before, chunk.after, paths) : chunk.after);
  }
  return files;
}

/** A chunk's source map for the chunk without its spaces, its sources named as the `.ts` files the tree was built from (same lines and columns). */
function mapOfTs(map: string, before: string, after: string, paths: BundlePaths): string {
  const json = JSON.parse(map) as { sources: string[]; mappings: string };
  json.mappings = shiftMappings(json.mappings, before, after);
  json.sources = json.sources.map((s) => {
    const file = resolve(paths.bundle, s);
    const rel = relative(paths.out, file);
    if (rel.startsWith("..") || !rel.endsWith(".js")) return s;
    return relative(paths.bundle, join(paths.src, `${rel.slice(0, -3)}.ts`)).split(sep).join("/");
  });
  return JSON.stringify(json);
}
