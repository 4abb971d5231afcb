// `amime up --runtime netns` from an installation under a private directory (a 0700 temp
// directory, /root): the sidecars run as UID 1337 and could not load bin/amime.js, so every one
// would exit and restart forever. amime up refuses before it creates anything, naming the directory.
// Skipped when not root (CI runs as root).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ROOT } from "../e2e/up-harness.ts";
import { notRoot } from "./netns-harness.ts";

describe("amime up --runtime netns from a private directory", { skip: notRoot(), timeout: 60_000 }, () => {
  const top = mkdtempSync(join(tmpdir(), "amime-private-")); // mode 0700
  after(() => rmSync(top, { recursive: true, force: true }));

  it("refuses with the directory's name and mode, and starts nothing", () => {
    const copy = join(top, "amime");
    for (const part of ["bin", "src", "samples", "package.json"]) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
    const namespaces = (): string => spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    const before = namespaces().split("\n").filter((l) => l.startsWith("amime-")).length;
    const r = spawnSync(join(ROOT, "node_modules", ".bin", "node"), [join(copy, "bin", "amime.js"), "up", "--runtime", "netns", "-f", join(copy, "samples", "bookinfo")], { cwd: copy, encoding: "utf8", timeout: 45_000 });
    assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`run as UID 1337 and cannot start from this installation: ${top} \\(mode 0700: no search/execute permission for others`));
    assert.match(r.stderr, /nothing was started/);
    assert.equal(namespaces().split("\n").filter((l) => l.startsWith("amime-")).length, before);
  });
});
