// A node:test reporter that writes one JSON line per failed test: its name (with the suites above
// it), where it is, and the first line of its error. run-integration.ts reads these to name a
// failed file's tests in its RETRIED block; a retry the log cannot explain fails the suite.
// Suites that failed only because a test inside them did ("N subtests failed") are left out: the
// test is the failure, and so are tests cancelled because a hook of their suite failed (the hook's
// failure is reported under the suite's name). A file that failed outside any test (it did not
// load, or its process exited or was ended by the watchdog) is marked `wholeFile`: no test to name.
import { basename, resolve } from "node:path";
import type { TestEvent } from "node:test/reporters";

export interface FailedTest {
  /** "suite > test". */
  name: string;
  /** file:line:column of the test, when known. */
  at: string;
  /** The error's first line ("AssertionError [ERR_ASSERTION]: …"). */
  error: string;
  /** The file failed as a whole, outside any test (load error, process exit, watchdog). */
  wholeFile: boolean;
}

interface ErrorLike {
  message?: unknown;
  name?: unknown;
  code?: unknown;
  failureType?: unknown;
  cause?: unknown;
}

function firstLine(e: unknown): string {
  const err = (e ?? {}) as ErrorLike;
  const cause = err.cause as ErrorLike | undefined;
  const inner = cause !== undefined && cause !== null && typeof cause === "object" ? cause : err;
  const name = typeof inner.name === "string" ? inner.name : "Error";
  const code = typeof inner.code === "string" ? ` [${inner.code}]` : "";
  const message = typeof inner.message === "string" ? inner.message : String(inner.message ?? cause ?? e);
  return `${name}${code}: ${message.split("\n").find((l) => l.trim() !== "") ?? ""}`.slice(0, 500);
}

export default async function* failureReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  /** Names of the suites/tests started and not yet finished, by nesting level. */
  const path: string[] = [];
  for await (const event of source) {
    if (event.type === "test:start") {
      path[event.data.nesting] = event.data.name;
      path.length = event.data.nesting + 1;
      continue;
    }
    if (event.type !== "test:fail") continue;
    const d = event.data;
    const error = (d.details as { error?: ErrorLike }).error;
    if (error?.failureType === "subtestsFailed" || error?.failureType === "cancelledByParent") continue;
    const names = [...path.slice(0, d.nesting), d.name];
    const at = d.file !== undefined ? `${d.file}:${d.line ?? 0}:${d.column ?? 0}` : "";
    // The test runner names a file's own failure after the file (as given on its command line).
    const isFile = d.file !== undefined && (d.name === basename(d.file) || resolve(d.name) === d.file);
    const wholeFile = d.nesting === 0 && isFile && error?.failureType === "testCodeFailure";
    const failed: FailedTest = { name: names.join(" > "), at, error: firstLine(error), wholeFile };
    yield `${JSON.stringify(failed)}\n`;
  }
}
