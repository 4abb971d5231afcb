#!/usr/bin/env node
// Entry point of the `amime` command. Amime runs on Node 24 (type stripping, reusePort);
// when started by an older Node (e.g. the system's Node 20), re-run with the Node 24 that
// `npm ci` put into node_modules/.bin.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  const local = join(root, "node_modules", ".bin", "node");
  if (!existsSync(local)) {
    console.error(`amime: needs Node.js 24 or newer (this is ${process.version}); run \`npm ci\` in ${root} first`);
    process.exit(1);
  }
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
await import("../src/cli/run.ts");
