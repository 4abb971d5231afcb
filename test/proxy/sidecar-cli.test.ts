// `amime proxy --config FILE` as a real process: the ready line, traffic through it, the admin
// endpoints, graceful exit on SIGTERM, a clear error on a bad file. Plus config pushes in-process.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { sidecarLaunch } from "../../src/runtime/js-build/sidecar-launch.ts";
import { firstLine, forward, proxyConfig, route, send, startProxy, startUpstream, type Upstream } from "./sidecar-harness.ts";

const root = join(import.meta.dirname, "..", "..");
const node = join(root, "node_modules", ".bin", "node");
const bin = join(root, "bin", "amime.js");

describe("amime proxy (process)", () => {
  let app: Upstream;
  let dir: string;

  before(async () => {
    app = await startUpstream("app");
    dir = mkdtempSync(join(tmpdir(), "amime-proxy-cli-"));
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the bound ports, proxies, serves admin and the read-only status port, and exits 0 on SIGTERM", async () => {
    const file = join(dir, "proxy.json");
    const cfg = proxyConfig({
      version: "v42",
      clusters: [{ name: "app", endpoints: [{ port: app.port }] }],
      virtualHosts: [{ domains: ["*"], routes: [route("all", {}, forward("app"))] }],
    });
    writeFileSync(file, JSON.stringify(cfg));
    const child = spawn(node, [bin, "proxy", "--config", file, "--admin-port", "0", "--status-port", "0", "--status-address", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const ready = JSON.parse(await firstLine(child)) as { ready: boolean; version: string; listeners: Record<string, number>; admin: number; status: number };
      assert.equal(ready.ready, true);
      assert.equal(ready.version, "v42");
      const port = ready.listeners.outbound as number;
      assert.ok(port > 0 && ready.admin > 0);

      const r = await send(port, { path: "/through" });
      assert.equal(r.status, 200);
      assert.match(r.body, /^app GET \/through/);

      const admin = `http://127.0.0.1:${ready.admin}`;
      assert.equal((await fetch(`${admin}/ready`)).status, 200);
      const stats = await (await fetch(`${admin}/stats`)).text();
      assert.match(stats, /^cluster\.app\.upstream_rq_total: 1$/m);
      assert.match(stats, /^cluster\.app\.upstream_cx_total: 1$/m);
      assert.match(stats, /^http\.downstream_rq_2xx: 1$/m);
      const clusters = (await (await fetch(`${admin}/clusters`)).json()) as { clusters: { name: string; hosts: { port: number; healthy: boolean }[] }[] };
      assert.equal(clusters.clusters[0]?.name, "app");
      assert.equal(clusters.clusters[0]?.hosts[0]?.port, app.port);
      assert.equal(clusters.clusters[0]?.hosts[0]?.healthy, true);
      const dump = (await (await fetch(`${admin}/config_dump`)).json()) as { version: string; config: { clusters: unknown[] } };
      assert.equal(dump.version, "v42");
      assert.equal(dump.config.clusters.length, 1);
      assert.equal((await fetch(`${admin}/nope`)).status, 404);
      const status = `http://127.0.0.1:${ready.status}`;
      assert.equal((await fetch(`${status}/healthz/ready`)).status, 200);
      assert.equal((await fetch(`${status}/healthz/ready`, { method: "POST" })).status, 405);
      assert.equal((await fetch(`${status}/drain`, { method: "POST" })).status, 404);
      assert.deepEqual(((await (await fetch(`${status}/listeners`)).json()) as { port: number }[]).map((l) => l.port), [port]);

      const code = await new Promise<number | null>((resolve) => {
        child.on("exit", (c) => resolve(c));
        child.kill("SIGTERM");
      });
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("loads no Node module a plain HTTP/1.1 config does not use (sidecar memory)", async () => {
    // docs/performance.md, "Modules a config does not use" and "Session 8: the sidecar's RSS":
    // each of these put MBs into every sidecar through an ESM import's namespace.
    const file = join(dir, "plain.json");
    writeFileSync(file, JSON.stringify(proxyConfig({ clusters: [{ name: "app", endpoints: [{ port: app.port }] }], virtualHosts: [{ domains: ["*"], routes: [route("all", {}, forward("app"))] }] })));
    const listFile = join(dir, "modules.json");
    const preload = join(dir, "module-list.mjs");
    // Node's modules (moduleLoadList) and our files (every module Node loads, through a load hook).
    writeFileSync(
      preload,
      `const files = [];\nprocess.getBuiltinModule("node:module").registerHooks({ load(url, context, next) { files.push(url); return next(url, context); } });\n` +
        `process.on("exit", () => process.getBuiltinModule("node:fs").writeFileSync(${JSON.stringify(listFile)}, JSON.stringify({ builtins: process.moduleLoadList, files })));\n`,
    );
    // As a runtime starts it: the bundle of the built tree, with the sidecar's flags.
    const launch = await sidecarLaunch(root);
    assert.equal(launch.args.at(-1), join(root, "dist", "bundle", "run-proxy.js"));
    const child = spawn(launch.command, ["--import", preload, ...launch.args, "proxy", "--config", file, "--admin-port", "-1"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const ready = JSON.parse(await firstLine(child)) as { listeners: Record<string, number> };
      assert.equal((await send(ready.listeners.outbound as number, { path: "/" })).status, 200);
      await new Promise<void>((resolve) => {
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      });
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    const list = JSON.parse(readFileSync(listFile, "utf8")) as { builtins: string[]; files: string[] };
    const loaded = new Set(list.builtins);
    assert.ok(loaded.has("NativeModule net"), "the list is the proxy's");
    for (const m of ["http", "_http_server", "tls", "http2", "zlib", "internal/deps/undici/undici", "fs/promises", "internal/readline/interface", "v8"]) {
      assert.ok(!loaded.has(`NativeModule ${m}`), `node:${m} is loaded`);
    }
    // Our code comes from a few files of the bundle (≈ 220 modules of the tree: docs/performance.md,
    // "Session 10: a bundle of the sidecar"), none of them a lazy room this config does not use.
    const ours = list.files.filter((u) => u.startsWith("file:")).map((u) => fileURLToPath(u));
    assert.ok(ours.length > 0 && ours.every((f) => dirname(f) === join(root, "dist", "bundle")), ours.join("\n"));
    // 8 files in session 10: more would bring Node's path functions back into TurboFan at start.
    assert.ok(ours.length <= 12, `${ours.length} files loaded:\n${ours.join("\n")}`);
    for (const lazy of ["grpc-check-", "grpc-export-", "metrics-exporter-", "log-exporter-", "dogstatsd-exporter-", "trace-proto-", "forward-client-", "secret-store-", "workload-certificate-", "control-plane-", "up-", "rooms-"]) {
      assert.ok(!ours.some((f) => basename(f).startsWith(lazy)), `${lazy}* is loaded:\n${ours.join("\n")}`);
    }
  });

  it("the sidecar's entry (the bundle's run-proxy.js) runs `amime proxy` only: another command exits 2, naming it", async () => {
    const launch = await sidecarLaunch(root);
    const child = spawn(launch.command, [...launch.args, "up"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    assert.equal(code, 2);
    assert.match(err, /runs the sidecar \(`amime proxy`\) only, not "up"/);
  });

  it("exits 1 with the reasons on an invalid config file", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "version: x\nnode: {}\nlisteners:\n  - name: out\n    address: 127.0.0.1\n    port: 0\n    routeConfigName: missing\n");
    const child = spawn(node, [bin, "proxy", "--config", file, "--admin-port", "-1"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    assert.equal(code, 1);
    assert.match(err, /listeners\[0\]\.routeConfigName: no route configuration named "missing"/);
  });

  it("exits 2 naming the flag on a bad status or Prometheus address, or a status address without a status port", async () => {
    const file = join(dir, "unused.json");
    writeFileSync(file, "{}");
    for (const [args, message] of [
      [["--status-port", "0", "--status-address", "everywhere"], /--status-address needs an IP address, not "everywhere"/],
      [["--prometheus-address", "pod"], /--prometheus-address needs an IP address, not "pod"/],
      [["--status-address", "0.0.0.0"], /--status-address needs --status-port/],
    ] as const) {
      const child = spawn(node, [bin, "proxy", "--config", file, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      assert.equal(code, 2, args.join(" "));
      assert.match(err, message);
    }
  });
});

describe("config pushes", () => {
  it("applies a new config, keeps the last good one on a bad push", async () => {
    const a = await startUpstream("a");
    const b = await startUpstream("b");
    const mk = (cluster: string, version: string) =>
      proxyConfig({
        version,
        clusters: [
          { name: "a", endpoints: [{ port: a.port }] },
          { name: "b", endpoints: [{ port: b.port }] },
        ],
        virtualHosts: [{ domains: ["*"], routes: [route("all", {}, forward(cluster))] }],
      });
    const p = await startProxy(mk("a", "1"));
    try {
      assert.match((await send(p.port)).body, /^a /);
      const ok = await p.sidecar.applyConfig(mk("b", "2"));
      assert.deepEqual(ok, { ok: true, version: "2" });
      assert.match((await send(p.port)).body, /^b /);
      // A bad regex is rejected; traffic keeps flowing on version 2.
      const bad = mk("a", "3") as { routes: { virtualHosts: { routes: { match: unknown }[] }[] }[] };
      (bad.routes[0]?.virtualHosts[0]?.routes[0] as { match: unknown }).match = { uri: { regex: "(" }, headers: [], queryParams: [], ignoreUriCase: false };
      const res = await p.sidecar.applyConfig(bad);
      assert.equal(res.ok, false);
      assert.equal(p.sidecar.config.version, "2");
      assert.match((await send(p.port)).body, /^b /);
      // The cluster kept its state across the push: one connection to b served both requests.
      assert.equal(b.connections, 1);
    } finally {
      await p.close();
      await a.close();
      await b.close();
    }
  });
});
