// How a runtime starts a sidecar (or a gateway) process: Node 24 with the sidecar's V8 flags
// (src/core/sidecar-node-flags.ts) on the built JavaScript tree (js-build.ts), brought up to date
// once when the mesh starts. Where the tree cannot be written (a read-only installation without
// one), the sidecars run from the TypeScript sources through bin/amime.js, and the log says so.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SIDECAR_NODE_FLAGS } from "../../core/sidecar-node-flags.ts";
import { buildJsTree } from "./js-build.ts";

export interface SidecarLaunch {
  /** The program: this process's Node (24). */
  command: string;
  /** Node flags and the entry script; the `amime` arguments (`proxy …`) follow them. */
  args: readonly string[];
  /** True when the entry is the built JavaScript tree. */
  built: boolean;
}

/** The built tree of a checkout at `root`, and its entry point. */
export function jsTreeOf(root: string): { src: string; out: string; entry: string } {
  const out = join(root, "dist");
  return { src: join(root, "src"), out, entry: join(out, "cli", "run.js") };
}

/** Bring the JavaScript tree of the checkout at `root` up to date and say how to start sidecars from it. */
export async function sidecarLaunch(root: string, log: (line: string) => void = () => {}): Promise<SidecarLaunch> {
  const tree = jsTreeOf(root);
  const fromSources: SidecarLaunch = { command: process.execPath, args: [...SIDECAR_NODE_FLAGS, join(root, "bin", "amime.js")], built: false };
  // An installation shipped with its tree and without sources (a container image) runs it as is.
  if (!existsSync(tree.src)) return existsSync(tree.entry) ? { command: process.execPath, args: [...SIDECAR_NODE_FLAGS, tree.entry], built: true } : fromSources;
  try {
    await buildJsTree(tree.src, tree.out);
  } catch (e) {
    log(`sidecars run from the TypeScript sources (≈ 30 MB more each, slower start): cannot build ${tree.out}: ${(e as Error).message}`);
    return fromSources;
  }
  // A checkout from before the tree existed (the bench's --compare DIR) has no entry in it.
  if (!existsSync(tree.entry)) return fromSources;
  return { command: process.execPath, args: [...SIDECAR_NODE_FLAGS, tree.entry], built: true };
}
