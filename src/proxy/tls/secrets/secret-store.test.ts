import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, renameSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SecretStore } from "./secret-store.ts";

const secret = (name: string, ns: string | undefined, cert: string): string =>
  `kind: Secret\nmetadata: {name: ${name}${ns !== undefined ? `, namespace: ${ns}` : ""}}\nstringData: {tls.crt: ${cert}, tls.key: k}\n`;

describe("SecretStore: a watched directory of Secret files", () => {
  const dir = mkdtempSync(join(tmpdir(), "amime-secrets-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Resolves after the store's next reload (fired by the directory watch). */
  const nextReload = (store: SecretStore): Promise<void> =>
    new Promise((resolve) => {
      const off = store.subscribe(() => {
        off();
        resolve();
      });
    });

  it("finds a secret by namespace, a namespace-less one from anywhere; follows writes, renames, removals and keeps a bad file's last good secrets", async () => {
    writeFileSync(join(dir, "a.yaml"), secret("gw", "istio-system", "A1") + "---\n" + secret("any", undefined, "X"));
    writeFileSync(join(dir, "b.yml"), secret("gw", "other", "B"));
    writeFileSync(join(dir, "notes.txt"), "not a secret file");
    const lines: string[] = [];
    const store = await SecretStore.open(dir, (l) => lines.push(l));
    try {
      assert.equal(store.find("istio-system", "gw")?.cert, "A1");
      assert.equal(store.find("other", "gw")?.cert, "B");
      assert.equal(store.find("default", "gw"), undefined);
      assert.equal(store.find("default", "any")?.cert, "X");

      // Rewritten in place.
      let reloaded = nextReload(store);
      writeFileSync(join(dir, "a.yaml"), secret("gw", "istio-system", "A2"));
      await reloaded;
      await store.settled();
      assert.equal(store.find("istio-system", "gw")?.cert, "A2");
      assert.equal(store.find("default", "any"), undefined);

      // Replaced by a rename (how certificate tools write atomically).
      reloaded = nextReload(store);
      writeFileSync(join(dir, ".a.tmp"), secret("gw", "istio-system", "A3"));
      renameSync(join(dir, ".a.tmp"), join(dir, "a.yaml"));
      await reloaded;
      await store.settled();
      assert.equal(store.find("istio-system", "gw")?.cert, "A3");

      // A broken file: reported, its previous secrets kept.
      reloaded = nextReload(store);
      writeFileSync(join(dir, "a.yaml"), "kind: Secret\nmetadata: {}\n");
      await reloaded;
      await store.settled();
      assert.equal(store.find("istio-system", "gw")?.cert, "A3");
      assert.ok(lines.some((l) => /a\.yaml: metadata\.name: a Secret needs a name \(keeping its previous secrets\)/.test(l)), lines.join("\n"));

      // Removed.
      reloaded = nextReload(store);
      unlinkSync(join(dir, "b.yml"));
      await reloaded;
      await store.settled();
      assert.equal(store.find("other", "gw"), undefined);
    } finally {
      store.close();
    }
  });

  it("a directory that does not exist stops the start with its error", async () => {
    await assert.rejects(SecretStore.open(join(dir, "missing")), /ENOENT/);
  });
});
