// How a runtime starts a sidecar (or a gateway) process: Node 24 with the sidecar's V8 flags
// (src/core/sidecar-node-flags.ts) on the bundle (bundle.ts) of the built JavaScript tree
// (js-build.ts), both brought up to date once when the mesh starts. Where the bundle cannot be made
// (esbuild missing), the sidecars run the tree; where the tree cannot be written (a read-only
// installation without one), the TypeScript sources through bin/amime.js; the log says which.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SIDECAR_NODE_FLAGS } from "../../core/sidecar-node-flags.ts";
import { bundleTree, type BundlePaths } from "./bundle.ts";
import { buildJsTree } from "./js-build.ts";

export interface SidecarLaunch {
  /** The program: this process's Node (24). */
  command: string;
  /** Node flags and the entry script; the `amime` arguments (`proxy …`) follow them. */
  args: readonly string[];
  /** True when the entry is built JavaScript (the bundle, or the tree). */
  built: boolean;
}

/** The built tree of a checkout at `root`, its entry point (`amime`), and its bundle's (`bundleEntry`: `amime proxy`, what sidecars run). */
export function jsTreeOf(root: string): BundlePaths & { entry: string; bundleEntry: string } {
  const out = join(root, "dist");
  const bundle = join(out, "bundle");
  return { src: join(root, "src"), out, entry: join(out, "cli", "run.js"), input: join(out, "cli", "run-proxy.js"), bundle, bundleEntry: join(bundle, "run-proxy.js") };
}

/** Bring the JavaScript tree and its bundle of the checkout at `root` up to date and say how to start sidecars from them. */
export async function sidecarLaunch(root: string, log: (line: string) => void = () => {}): Promise<SidecarLaunch> {
  const tree = jsTreeOf(root);
  const fromSources: SidecarLaunch = { command: process.execPath, args: [...SIDECAR_NODE_FLAGS, join(root, "bin", "amime.js")], built: false };
  const on = (entry: string): SidecarLaunch => ({ command: process.execPath, args: [...SIDECAR_NODE_FLAGS, entry], built: true });
  // An installation shipped built and without sources (a container image) runs what it has.
  if (!existsSync(tree.src)) return existsSync(tree.bundleEntry) ? on(tree.bundleEntry) : existsSync(tree.entry) ? on(tree.entry) : fromSources;
  let fingerprint: string;
  try {
    fingerprint = (await buildJsTree(tree.src, tree.out, tree.bundle)).fingerprint;
  } catch (e) {
    log(`sidecars run from the TypeScript sources (≈ 30 MB more each, slower start): cannot build ${tree.out}: ${(e as Error).message}`);
    return fromSources;
  }
  // A checkout from before the tree existed (the bench's --compare DIR) has no entry in it.
  if (!existsSync(tree.entry)) return fromSources;
  // …nor one from before the bundle, whose sidecars ran the tree: it is compared as it ran.
  if (!existsSync(join(root, "src", "runtime", "js-build", "bundle.ts"))) return on(tree.entry);
  try {
    await bundleTree(tree, fingerprint);
  } catch (e) {
    log(`sidecars run the JavaScript tree, one file per module (≈ 7 MB more each when idle): cannot bundle it in ${tree.bundle}: ${(e as Error).message}`);
    return on(tree.entry);
  }
  return on(tree.bundleEntry);
}
