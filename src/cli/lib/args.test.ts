import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArgs, UsageError, type FlagSpec } from "./args.ts";

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
