// The integration runner's retry rule, on real runs of small test files: a file whose test fails
// once passes the suite only with a RETRIED block naming the test and its error; a file that fails
// twice, or fails outside any test (no test to name), fails the suite.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

const RUNNER = join(import.meta.dirname, "run-integration.ts");

function runner(files: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // Without this test's own node:test context, or the inner `node --test` would skip its files.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [RUNNER, ...files], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("run-integration.ts", () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "amime-runner-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a test that fails once: retried, the suite passes, and the log names the test and its error", async () => {
    const marker = join(dir, "failed-once");
    const f = file(
      "once.test.ts",
      `import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
describe("suite", () => {
  it("flaky step", () => {
    if (!existsSync(${JSON.stringify(marker)})) {
      writeFileSync(${JSON.stringify(marker)}, "");
      assert.equal(1, 2, "first run breaks");
    }
  });
});
`,
    );
    const r = await runner([f]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /RETRIED \S*once\.test\.ts: its first run failed in\n {2}✖ suite > flaky step \(\S*once\.test\.ts:5:3\): AssertionError \[ERR_ASSERTION\]: first run breaks\n/);
    assert.match(r.out, /retried after a failure: \S*once\.test\.ts \(suite > flaky step\)\n$/);
  });

  it("a test that fails twice fails the suite", async () => {
    const f = file("always.test.ts", `import { it } from "node:test";\nit("broken", () => { throw new Error("always"); });\n`);
    const r = await runner([f]);
    assert.equal(r.code, 1);
    assert.match(r.out, /RETRIED \S*always\.test\.ts: its first run failed in\n {2}✖ broken \(\S+:2:1\): Error: always\n/);
    assert.match(r.out, /FAILED: \S*always\.test\.ts\n$/);
  });

  it("a file that fails outside any test is not retried: the suite fails", async () => {
    const f = file("exits.test.ts", `import { it } from "node:test";\nit("exits", () => { process.exit(1); });\n`);
    const r = await runner([f]);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAILED \S*exits\.test\.ts: it failed outside any test .*not retried/);
    assert.doesNotMatch(r.out, /RETRIED/);
  });
});
