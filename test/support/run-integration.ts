// The integration suite's runner (`npm run test:integration`): every `test/**/*.test.ts` file in
// its own `node --test` process, one at a time (they start real processes and take real ports).
//
// A file that fails is run once more, and the log says so in a RETRIED line with the first run's
// failure above it: these suites start real process trees and sockets on a shared machine, where a
// rare scheduling or port accident must not throw away a whole CI run. A file that fails twice fails
// the suite. Every test still has its time limit and every file the watchdog (see watchdog.ts), so
// a hang costs minutes, not the CI's hour.
//
// Usage: node test/support/run-integration.ts [FILE…]   (default: every test/**/*.test.ts)
import { spawn } from "node:child_process";
import { globSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const TEST_TIMEOUT_MS = 180_000;

/** Tests counted from the reporter's summary lines (`ℹ tests N`, `ℹ pass N`) of passing runs. */
let tests = 0;
let passed = 0;

function runFile(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--test", `--test-timeout=${TEST_TIMEOUT_MS}`, "--import", "./test/support/watchdog.ts", file],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      process.stdout.write(d);
      out += d.toString();
    });
    child.on("close", (code, signal) => {
      const status = code ?? (signal === null ? 1 : 128);
      if (status === 0) {
        tests += Number(/^ℹ tests (\d+)/m.exec(out)?.[1] ?? 0);
        passed += Number(/^ℹ pass (\d+)/m.exec(out)?.[1] ?? 0);
      }
      resolve(status);
    });
    child.on("error", () => resolve(1));
  });
}

const args = process.argv.slice(2);
const files = (args.length > 0 ? args : globSync("test/**/*.test.ts", { cwd: ROOT })).map((f) => relative(ROOT, resolve(ROOT, f))).sort();
const retried: string[] = [];
const failed: string[] = [];
const started = performance.now();

for (const file of files) {
  if ((await runFile(file)) === 0) continue;
  process.stdout.write(`\nRETRIED ${file}: it failed (above); running it once more\n\n`);
  retried.push(file);
  if ((await runFile(file)) !== 0) failed.push(file);
}

const secs = ((performance.now() - started) / 1000).toFixed(0);
process.stdout.write(`\nintegration: ${files.length} files in ${secs} s; ${files.length - failed.length} passed (${passed} of ${tests} tests in them)`);
process.stdout.write(retried.length > 0 ? `; retried after a failure: ${retried.join(", ")}` : "; none retried");
process.stdout.write(failed.length > 0 ? `; FAILED twice: ${failed.join(", ")}\n` : "\n");
process.exitCode = failed.length > 0 ? 1 : 0;
