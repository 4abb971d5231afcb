// `amime proxy --secret-dir DIR` as a real process: a gateway listener whose certificate is a
// `credentialName` found in the directory's Secret YAML (curl over HTTPS through it), the same
// with $AMIME_SECRET_DIR, and a clear exit 1 for a directory that does not exist.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../protocols/harness.ts";
import { makePki, type Pki } from "../protocols/pki.ts";
import { forward, proxyConfig, route, startUpstream, type Upstream } from "./sidecar-harness.ts";

const root = join(import.meta.dirname, "..", "..");
const node = join(root, "node_modules", ".bin", "node");
const bin = join(root, "bin", "amime.js");

/** Resolves with the ready line's listener ports; rejects with stderr if the process exits first. */
function ready(child: ChildProcess): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { listeners: Record<string, number> }).listeners);
    });
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

describe("amime proxy --secret-dir (process)", () => {
  let app: Upstream;
  let pki: Pki;
  let dir: string;
  let secrets: string;
  let file: string;

  before(async () => {
    app = await startUpstream("app");
    pki = await makePki({ a: ["a.example.test"] });
    dir = mkdtempSync(join(tmpdir(), "amime-secret-dir-"));
    secrets = join(dir, "secrets");
    const b64 = (f: string): string => readFileSync(f).toString("base64");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "a.yaml"), `apiVersion: v1\nkind: Secret\nmetadata: {name: a-cred, namespace: istio-system}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(pki.leaf("a").cert)}\n  tls.key: ${b64(pki.leaf("a").key)}\n`);
    const cfg = proxyConfig({ clusters: [{ name: "app", endpoints: [{ port: app.port }] }], virtualHosts: [{ domains: ["*"], routes: [route("all", {}, forward("app"))] }] });
    cfg.node = { ...(cfg.node as Record<string, unknown>), namespace: "istio-system" };
    cfg.listeners = [{ name: "gw", direction: "gateway", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound", tls: { servers: [{ hosts: ["a.example.test"], mode: "SIMPLE", credentialName: "a-cred" }] } }];
    file = join(dir, "gw.json");
    writeFileSync(file, JSON.stringify(cfg));
  });
  after(async () => {
    await app.close();
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const how of ["--secret-dir", "$AMIME_SECRET_DIR"] as const) {
    it(`${how}: the gateway serves HTTPS with the secret's certificate`, async () => {
      const args = [bin, "proxy", "--config", file, "--admin-port", "-1", ...(how === "--secret-dir" ? ["--secret-dir", secrets] : [])];
      const child = spawn(node, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...(how === "$AMIME_SECRET_DIR" ? { AMIME_SECRET_DIR: secrets } : { AMIME_SECRET_DIR: "" }) } });
      try {
        const port = (await ready(child)).gw!;
        const r = await run("curl", ["--silent", "--show-error", "--cacert", pki.ca, "--resolve", `a.example.test:${port}:127.0.0.1`, `https://a.example.test:${port}/through`], "", 10_000);
        assert.equal(r.stderr, "");
        assert.match(r.stdout, /^app GET \/through/);
      } finally {
        child.kill("SIGTERM");
      }
    });
  }

  it("a secret directory that does not exist: exit 1 naming it", async () => {
    const child = spawn(node, [bin, "proxy", "--config", file, "--admin-port", "-1", "--secret-dir", join(dir, "missing")], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    assert.equal(code, 1);
    assert.match(err, /^amime proxy: --secret-dir .*missing: ENOENT/);
  });
});
