import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { firstUnreachable } from "./proxy-access.ts";

describe("firstUnreachable: can UID 1337 reach the sidecar's files", () => {
  let top: string;
  before(async () => {
    top = await mkdtemp(join(tmpdir(), "amime-access-"));
    await chmod(top, 0o755);
    await mkdir(join(top, "open", "bin"), { recursive: true, mode: 0o755 });
    await writeFile(join(top, "open", "bin", "amime.js"), "", { mode: 0o644 });
    await mkdir(join(top, "private", "bin"), { recursive: true });
    await writeFile(join(top, "private", "bin", "amime.js"), "", { mode: 0o644 });
    await chmod(join(top, "private"), 0o700);
    await mkdir(join(top, "closed"), { mode: 0o755 });
    await writeFile(join(top, "closed", "amime.js"), "", { mode: 0o600 });
  });
  after(async () => {
    await rm(top, { recursive: true, force: true });
  });

  it("null when every directory is searchable and the file readable by others", async () => {
    assert.equal(await firstUnreachable([{ path: join(top, "open", "bin", "amime.js"), access: "r" }], 1337, 1337), null);
  });

  it("names the private directory above the file", async () => {
    const why = await firstUnreachable([{ path: join(top, "private", "bin", "amime.js"), access: "r" }], 1337, 1337);
    assert.match(why ?? "", new RegExp(`^${join(top, "private")} \\(mode 0700: no search/execute permission for others`));
  });

  it("names an unreadable file, and owner bits count for its owner", async () => {
    const file = join(top, "closed", "amime.js");
    assert.match((await firstUnreachable([{ path: file, access: "r" }], 1337, 1337)) ?? "", /closed\/amime\.js \(mode 0600: no read permission for others\)/);
    assert.equal(await firstUnreachable([{ path: file, access: "r" }], process.getuid!(), 1337), null);
  });
});
