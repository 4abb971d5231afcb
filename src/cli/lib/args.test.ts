import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArgs, readFlags, runParsed, UsageError, walkFlags, type FlagSpec } from "./args.ts";

const SPECS: FlagSpec[] = [
  { name: "filename", short: "f", type: "list" },
  { name: "output", short: "o", type: "string", choices: ["json", "yaml"] },
  { name: "all-namespaces", short: "A", type: "bool" },
];

test("parseArgs: long, short, =value, repeatable lists, positionals anywhere, -- ends flags", () => {
  const a = parseArgs(["vs", "-f", "a.yaml", "--filename=b.yaml", "-f=-", "-o", "json", "-A", "x", "--", "-y"], SPECS);
  assert.deepEqual(a.lists.get("filename"), ["a.yaml", "b.yaml", "-"]);
  assert.equal(a.strings.get("output"), "json");
  assert.ok(a.bools.has("all-namespaces"));
  assert.deepEqual(a.positionals, ["vs", "x", "-y"]);
  assert.ok(parseArgs(["-h"], SPECS).bools.has("help"));
  assert.equal(parseArgs(["--control-plane", "http://x"], SPECS).strings.get("control-plane"), "http://x");
});

test("parseArgs: usage errors", () => {
  for (const [argv, why] of [
    [["--nope"], /unknown flag --nope/],
    [["-o"], /-o needs a value/],
    [["-o", "-A"], /-o needs a value/],
    [["-o", "xml"], /unknown value "xml" \(use json, yaml\)/],
    [["-A=1"], /takes no value/],
    [["--output="], /non-empty/],
  ] as const) {
    assert.throws(() => parseArgs(argv, SPECS), (e: unknown) => e instanceof UsageError && why.test(e.message), argv.join(" "));
  }
});

/** What a hand-written flag switch sees: flag, consumed values, or the usage error's message. */
function walk(argv: readonly string[]): unknown[] {
  const seen: unknown[] = [];
  try {
    for (const f of walkFlags(argv)) {
      if (f.flag === "--port") seen.push([f.flag, f.integer(-1, 65535, "a port number")]);
      else if (f.flag === "-f" || f.flag === "--name") seen.push([f.flag, f.required("a path")]);
      else if (f.flag === "--raw") seen.push([f.flag, f.value()]);
      else seen.push(f.arg);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    seen.push(e.message);
  }
  return seen;
}

test("walkFlags: inline or next values, taken whatever they look like; numbers in range", () => {
  assert.deepEqual(walk(["-f", "a", "-f=b", "--name=c", "--port", "-1", "x=y", "--raw", "--"]), [
    ["-f", "a"], ["-f", "b"], ["--name", "c"], ["--port", -1], "x=y", ["--raw", "--"],
  ]);
  assert.deepEqual(walk(["--raw"]), [["--raw", undefined]]);
  assert.deepEqual(walk(["--port=65536"]), ["--port needs a port number"]);
  assert.deepEqual(walk(["--port", "1.5"]), ["--port needs a port number"]);
  assert.deepEqual(walk(["--port"]), ["--port needs a port number"]);
  assert.deepEqual(walk(["-f"]), ["-f needs a path"]);
  assert.deepEqual(walk(["--name="]), ["--name needs a path"]);
});

test("readFlags: a reader per flag (aliases as --help lists them), -h/--help, unknown options and positionals", () => {
  const read = (argv: readonly string[], positional?: (arg: string) => never): unknown[] => {
    const seen: unknown[] = [];
    try {
      const help = readFlags(argv, {
        "-f, --filename": (f) => void seen.push(["file", f.required("a path")]),
        "--port": (f) => void seen.push(["port", f.integer(0, 65535, "a port number")]),
        "--dry-run": () => void seen.push("dry-run"),
      }, positional);
      seen.push({ help });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      seen.push(e.message);
    }
    return seen;
  };
  assert.deepEqual(read(["-f", "a", "--filename=b", "--port", "80", "--dry-run"]), [["file", "a"], ["file", "b"], ["port", 80], "dry-run", { help: false }]);
  assert.deepEqual(read(["--dry-run", "-h"]), ["dry-run", { help: true }]);
  assert.deepEqual(read(["--help", "-f", "--port"]), [["file", "--port"], { help: true }]);
  assert.deepEqual(read(["--nope"]), ['unknown option "--nope"']);
  assert.deepEqual(read(["-f"]), ["-f needs a path"]);
  assert.deepEqual(read(["dir"]), ['unknown option "dir"']);
  const unexpected = (arg: string): never => {
    throw new UsageError(`unexpected argument "${arg}"`);
  };
  assert.deepEqual(read(["dir"], unexpected), ['unexpected argument "dir"']);
  assert.deepEqual(read(["--nope"], unexpected), ['unknown option "--nope"']);
});

test("runParsed: --help prints help (0), usage errors print message + help (2), else the body runs", async () => {
  const run = runParsed("demo", "HELP\n", (argv) => {
    if (argv.includes("--bad")) throw new UsageError("bad flag");
    return { help: argv.includes("-h") };
  }, async () => 7);
  const out: string[] = [];
  const write = (stream: NodeJS.WriteStream) => {
    const orig = stream.write;
    stream.write = ((chunk: string) => out.push(chunk) > 0) as typeof stream.write;
    return () => void (stream.write = orig);
  };
  const restore = [write(process.stdout), write(process.stderr)];
  try {
    assert.equal(await run(["-h"]), 0);
    assert.equal(await run(["--bad"]), 2);
    assert.equal(await run([]), 7);
  } finally {
    for (const r of restore) r();
  }
  assert.deepEqual(out, ["HELP\n", "amime demo: bad flag\n\nHELP\n"]);
});
