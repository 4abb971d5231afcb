import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFile, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadProxyConfigFile, readTextFile } from "./config-file.ts";

describe("the --config file", () => {
  const dir = mkdtempSync(join(tmpdir(), "amime-config-file-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string | Buffer): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  // 1-, 2-, 3- and 4-byte sequences, a byte-order mark, and bytes that are not UTF-8 (replaced as Buffer#toString replaces them).
  const bytes = Buffer.concat([Buffer.from("\u{FEFF}{\"a\": \"é—𝄞x\", \"b\": \"ü\"}"), Buffer.from([0xe2, 0x28, 0xa1, 0xf0, 0x9f]), Buffer.from("z".repeat(30))]);

  it("reads the text fs.readFile gives", async () => {
    const file = write("utf8.json", bytes);
    assert.equal(await readTextFile(file), readFileSync(file, "utf8"));
    assert.equal(await readTextFile(write("empty.json", "")), "");
    const cut = write("cut.txt", Buffer.from([0x61, 0xf0, 0x9f, 0x98])); // ends inside a sequence
    assert.equal(await readTextFile(cut), readFileSync(cut, "utf8"));
    // Over 1 MB of ASCII decodes to an external string (a copy): the buffer it came from is freed after.
    for (const big of [JSON.stringify({ s: "x".repeat(1_100_000) }), JSON.stringify({ s: "x".repeat(300_000), u: "é".repeat(100_000) })]) {
      assert.equal(await readTextFile(write("large.json", big)), big);
    }
  });

  it("reads a pipe (no size to start from) to its end, whatever buffer it starts with", async () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    for (const start of [1, 3, 7, 64]) {
      const [text] = await Promise.all([readTextFile(fifo, start), new Promise<void>((resolve, reject) => writeFile(fifo, bytes, (e) => (e ? reject(e) : resolve())))]);
      assert.equal(text, bytes.toString("utf8"), `starting with ${start} bytes`);
    }
  });

  it("parses JSON, or YAML, and collects after the parse when given a collector", async () => {
    let collections = 0;
    const gc = (): void => void collections++;
    assert.deepEqual(await loadProxyConfigFile(write("c.json", '{"version": "1", "listeners": []}'), gc), { version: "1", listeners: [] });
    assert.equal(collections, 1);
    assert.deepEqual(await loadProxyConfigFile(write("c.yaml", "version: '2'\nlisteners: []\n")), { version: "2", listeners: [] });
    assert.deepEqual(await loadProxyConfigFile(write("c", ' \n{"version": "3"}')), { version: "3" });
  });

  it("rejects with the parser's message on bad JSON, and names a missing file", async () => {
    await assert.rejects(loadProxyConfigFile(write("bad.json", '{"version": "1",\n  "listeners": [}')), /SyntaxError: Unexpected token '}'/);
    await assert.rejects(loadProxyConfigFile(join(dir, "missing.json")), /ENOENT.*missing\.json/);
  });
});
