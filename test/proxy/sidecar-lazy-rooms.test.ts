// The rooms a config does not use (HTTP/2, the HTTP filters beyond cors/fault/router, the network
// filters beyond tcp_proxy) are one lazy chunk (src/proxy/rooms/): loaded by the first HTTP/2
// connection, which waits for it, or before a config that uses one is applied; a sidecar whose
// config and traffic use none never loads it. This file's process starts with none loaded: the
// tests run in order and the first two depend on that.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { httpFilter } from "../../src/proxy/http/filters/registry.ts";
import { h2Room } from "../../src/proxy/http2/door.ts";
import { sidecarLaunch } from "../../src/runtime/js-build/sidecar-launch.ts";
import { forward, proxyConfig, route, send, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const root = join(import.meta.dirname, "..", "..");

const rbacDenying = (path: string): object => ({
  name: "rbac",
  config: { policies: [{ name: "ns[default]-policy[deny]", namespace: "default", action: "DENY", dryRun: false, rules: [{ to: [{ operation: { paths: [path] } }] }] }], useRemoteAddress: false, trustedHops: 0 },
});

function config(upstream: number, version: string, filters?: object[]): Record<string, unknown> {
  const c = proxyConfig({ version, clusters: [{ name: "app", endpoints: [{ port: upstream }] }], virtualHosts: [{ domains: ["*"], routes: [route("all", {}, forward("app"))] }] }) as { listeners: Record<string, unknown>[] };
  if (filters !== undefined) c.listeners[0]!.httpFilters = [...filters, { name: "router" }];
  return c;
}

function h2cStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const req = session.request({ ":path": path });
    req.on("response", (h) => {
      req.resume();
      req.on("end", () => {
        session.close();
        resolve(Number(h[":status"]));
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the lazy rooms (in-process sidecar)", () => {
  let app: Upstream;
  let proxy: RunningProxy;
  before(async () => {
    app = await startUpstream("app");
    proxy = await startProxy(config(app.port, "v1"));
  });
  after(async () => {
    await proxy.close();
    await app.close();
  });

  it("an HTTP/1.1 config and HTTP/1.1 traffic load none of them", async () => {
    assert.equal((await send(proxy.port, { path: "/a" })).status, 200);
    assert.equal(h2Room(), undefined);
    assert.equal(httpFilter("rbac"), undefined);
  });

  it("the first h2c connection waits for the HTTP/2 code and is served; two at once both are", async () => {
    assert.equal(h2Room(), undefined);
    assert.deepEqual(await Promise.all([h2cStatus(proxy.port, "/h2-a"), h2cStatus(proxy.port, "/h2-b")]), [200, 200]);
    assert.notEqual(h2Room(), undefined);
    assert.equal(await h2cStatus(proxy.port, "/h2-c"), 200);
  });

  it("a config applied at run time that turns rbac on is enforced; one that turns it off again is too", async () => {
    const on = await proxy.sidecar.applyConfig(config(app.port, "v2", [rbacDenying("/deny")]));
    assert.deepEqual(on, { ok: true, version: "v2" });
    assert.equal((await send(proxy.port, { path: "/deny" })).status, 403);
    assert.equal((await send(proxy.port, { path: "/other" })).status, 200);
    assert.deepEqual(await proxy.sidecar.applyConfig(config(app.port, "v3")), { ok: true, version: "v3" });
    assert.equal((await send(proxy.port, { path: "/deny" })).status, 200);
  });
});

describe("the lazy rooms (the bundle, as a sidecar runs)", () => {
  let app: Upstream;
  let dir: string;
  before(async () => {
    app = await startUpstream("app");
    dir = mkdtempSync(join(tmpdir(), "amime-lazy-rooms-"));
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("without the rooms' chunk, a config that needs it is refused naming where; one that does not starts", async () => {
    const launch = await sidecarLaunch(root);
    const bundle = join(dir, "bundle");
    cpSync(join(root, "dist", "bundle"), bundle, { recursive: true });
    const chunks = readdirSync(bundle).filter((f) => /^rooms-.*\.js$/.test(f));
    assert.equal(chunks.length, 1, "the bundle has the rooms' chunk");
    rmSync(join(bundle, chunks[0]!));
    const run = async (cfg: object): Promise<{ code: number | null; out: string; err: string }> => {
      const file = join(dir, "proxy.json");
      writeFileSync(file, JSON.stringify(cfg));
      const child = spawn(launch.command, [...launch.args.slice(0, -1), join(bundle, "run-proxy.js"), "proxy", "--config", file, "--admin-port", "-1"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) child.kill("SIGTERM");
      });
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      return { code, out, err };
    };
    const refused = await run(config(app.port, "v1", [rbacDenying("/deny")]));
    assert.equal(refused.code, 1, refused.err);
    assert.match(refused.err, /listeners\[0\]\.httpFilters: the proxy's code for it could not be loaded/);
    const plain = await run(config(app.port, "v1"));
    assert.equal(plain.code, 0, plain.err);
    assert.match(plain.out, /"listeners"/);
  });
});
