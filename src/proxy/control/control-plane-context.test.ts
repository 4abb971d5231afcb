import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { controlPlaneContext } from "./control-plane-context.ts";

describe("controlPlaneContext", () => {
  it("one context while the roots stay the same (stream, ACKs and bootstrap share it); a new one when they change", () => {
    const dir = mkdtempSync(join(tmpdir(), "cp-context-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const root = (name: string): string => {
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${name}`, "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.pem`)], { stdio: "ignore" });
      return readFileSync(join(dir, `${name}.pem`), "utf8");
    };
    const first = root("first");
    const rotated = `${first}${root("second")}`;
    const a = controlPlaneContext(first);
    assert.equal(controlPlaneContext(first), a);
    assert.equal(controlPlaneContext(`${first}`), a, "an equal PEM string, not only the same string object");
    const b = controlPlaneContext(rotated);
    assert.notEqual(b, a);
    assert.equal(controlPlaneContext(rotated), b);
  });
});
