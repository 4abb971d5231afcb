// The integration suite's runner (`npm run test:integration`): every `test/**/*.test.ts` file in
// its own `node --test` process, one at a time (they start real processes and take real ports).
//
// A file whose tests fail is run once more, and passes the suite only if that second run passes
// and the log says what the first run's failure was: a RETRIED block names each failed test
// (suite > test, file:line) and its error, and the last line names the retried files and tests.
// These suites start real process trees and sockets on a shared machine, where a rare scheduling
// accident must not throw away a whole CI run, but no retry stays silent: each one is a bug to find
// and fix, tracked in docs/testing.md. A file that failed outside any test (it did not load, its
// process exited, the watchdog ended it) has no test to name and is not retried: it fails the
// suite. Every test has its time limit and every file the watchdog (see watchdog.ts), so a hang
// costs minutes, not the CI's hour.
//
// Usage: node test/support/run-integration.ts [FILE…]   (default: every test/**/*.test.ts)
import { spawn } from "node:child_process";
import { globSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import type { FailedTest } from "./failure-reporter.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const TEST_TIMEOUT_MS = 180_000;

/** Tests counted from the reporter's summary lines (`ℹ tests N`, `ℹ pass N`) of passing runs. */
let tests = 0;
let passed = 0;

const scratch = mkdtempSync(join(tmpdir(), "amime-integration-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

interface FileRun {
  status: number;
  /** The failed tests, as failure-reporter.ts wrote them (empty when the run passed). */
  failures: FailedTest[];
}

function runFile(file: string): Promise<FileRun> {
  const failuresFile = join(scratch, "failures.jsonl");
  rmSync(failuresFile, { force: true });
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--test",
        `--test-timeout=${TEST_TIMEOUT_MS}`,
        "--import",
        "./test/support/watchdog.ts",
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=./test/support/failure-reporter.ts",
        `--test-reporter-destination=${failuresFile}`,
        file,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      process.stdout.write(d);
      out += d.toString();
    });
    const done = (status: number): void => {
      if (status === 0) {
        tests += Number(/^ℹ tests (\d+)/m.exec(out)?.[1] ?? 0);
        passed += Number(/^ℹ pass (\d+)/m.exec(out)?.[1] ?? 0);
      }
      resolve({ status, failures: status === 0 ? [] : readFailures(failuresFile) });
    };
    child.on("close", (code, signal) => done(code ?? (signal === null ? 1 : 128)));
    child.on("error", () => done(1));
  });
}

function readFailures(path: string): FailedTest[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: FailedTest[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as FailedTest);
    } catch {
      // a line cut short by a killed process: not a named failure
    }
  }
  return out;
}

const describeFailure = (f: FailedTest): string => `${f.name} (${relative(ROOT, f.at)}): ${f.error}`;

const args = process.argv.slice(2);
const files = (args.length > 0 ? args : globSync("test/**/*.test.ts", { cwd: ROOT })).map((f) => relative(ROOT, resolve(ROOT, f))).sort();
/** Files that failed once, passed on their second run, and the tests that had failed. */
const retried: { file: string; failures: FailedTest[] }[] = [];
const failed: string[] = [];
const started = performance.now();

for (const file of files) {
  const first = await runFile(file);
  if (first.status === 0) continue;
  const named = first.failures.length > 0 && first.failures.every((f) => !f.wholeFile);
  if (!named) {
    const why = first.failures.length > 0 ? "it failed outside any test" : `it exited with status ${first.status} and reported no failed test`;
    process.stdout.write(`\nFAILED ${file}: ${why} (see its output above); not retried, since no failed test can be named\n\n`);
    failed.push(file);
    continue;
  }
  process.stdout.write(`\nRETRIED ${file}: its first run failed in\n${first.failures.map((f) => `  ✖ ${describeFailure(f)}\n`).join("")}running it once more (see docs/testing.md)\n\n`);
  const second = await runFile(file);
  if (second.status === 0) {
    retried.push({ file, failures: first.failures });
    process.stdout.write(`\nRETRIED ${file}: passed on its second run; its first run's failures are listed above\n\n`);
  } else {
    failed.push(file);
  }
}

const secs = ((performance.now() - started) / 1000).toFixed(0);
process.stdout.write(`\nintegration: ${files.length} files in ${secs} s; ${files.length - failed.length} passed (${passed} of ${tests} tests in them)`);
process.stdout.write(
  retried.length > 0 ? `; retried after a failure: ${retried.map((r) => `${r.file} (${r.failures.map((f) => f.name).join("; ")})`).join(", ")}` : "; none retried",
);
process.stdout.write(failed.length > 0 ? `; FAILED: ${failed.join(", ")}\n` : "\n");
process.exitCode = failed.length > 0 ? 1 : 0;
