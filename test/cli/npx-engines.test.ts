// The README's commands run as `npx amime …` with the system Node (Debian's 20), which only
// bootstraps: bin/amime.js re-runs itself under the Node 24 that `npm ci` installed. So
// package.json `engines` states what the entry point needs, and npx prints no EBADENGINE warning.
// Needs a Node older than 24 on PATH (outside node_modules/.bin) to show anything; skipped without.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(import.meta.dirname, "../..");
const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith("npm_")) env[k] = v;
env.PATH = (process.env.PATH ?? "").split(delimiter).filter((d) => !d.includes(join("node_modules", ".bin"))).join(delimiter);
const system = spawnSync("node", ["--version"], { env, encoding: "utf8" });
const major = system.status === 0 ? Number(/^v(\d+)/.exec(system.stdout)?.[1]) : NaN;
const skip = Number.isNaN(major) ? "no system node on PATH" : major >= 24 ? `the system node is ${system.stdout.trim()} (the warning needs one older than 24)` : false;

test("`npx amime --help` with the system Node runs clean: no EBADENGINE, the help printed", { skip, timeout: 60_000 }, () => {
  // A project as a fresh clone has it: this package.json, its bin in node_modules/.bin. (Run in a
  // checkout whose node_modules is a symlink, as a git worktree's may be, npx skips the check.)
  const dir = mkdtempSync(join(tmpdir(), "amime-npx-"));
  try {
    copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
    mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
    symlinkSync(join(ROOT, "bin", "amime.js"), join(dir, "node_modules", ".bin", "amime"));
    const r = spawnSync("npx", ["amime", "--help"], { cwd: dir, env, encoding: "utf8", timeout: 50_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: amime <command>/);
    assert.doesNotMatch(r.stderr, /EBADENGINE|Unsupported engine/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
