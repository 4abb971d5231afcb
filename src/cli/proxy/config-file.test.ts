import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

  it("reads the text fs.readFile gives, whatever piece a UTF-8 sequence is cut by", async () => {
    // 1-, 2-, 3- and 4-byte sequences, a byte-order mark, and bytes that are not UTF-8 (replaced as Buffer#toString replaces them).
    const bytes = Buffer.concat([Buffer.from("\u{FEFF}{\"a\": \"é—𝄞x\", \"b\": \"ü\"}"), Buffer.from([0xe2, 0x28, 0xa1, 0xf0, 0x9f]), Buffer.from("z".repeat(30))]);
    const file = write("utf8.json", bytes);
    const expected = readFileSync(file, "utf8");
    for (let piece = 4; piece <= 20; piece++) assert.equal(await readTextFile(file, piece), expected, `pieces of ${piece} bytes`);
    assert.equal(await readTextFile(file), expected);
    assert.equal(await readTextFile(write("empty.json", "")), "");
  });

  it("ends with a sequence the file cuts short", async () => {
    const file = write("cut.txt", Buffer.from([0x61, 0xf0, 0x9f, 0x98]));
    assert.equal(await readTextFile(file, 4), readFileSync(file, "utf8"));
  });

  it("parses JSON, or YAML, and collects around the parse when given a collector", async () => {
    let collections = 0;
    const gc = (): void => void collections++;
    assert.deepEqual(await loadProxyConfigFile(write("c.json", '{"version": "1", "listeners": []}'), gc), { version: "1", listeners: [] });
    assert.equal(collections, 2);
    assert.deepEqual(await loadProxyConfigFile(write("c.yaml", "version: '2'\nlisteners: []\n")), { version: "2", listeners: [] });
    assert.deepEqual(await loadProxyConfigFile(write("c", ' \n{"version": "3"}')), { version: "3" });
  });

  it("rejects with the parser's message on bad JSON, and names a missing file", async () => {
    await assert.rejects(loadProxyConfigFile(write("bad.json", '{"version": "1",\n  "listeners": [}')), /SyntaxError: Unexpected token '}'/);
    await assert.rejects(loadProxyConfigFile(join(dir, "missing.json")), /ENOENT.*missing\.json/);
  });
});
