// CUSTOM AuthorizationPolicy (ext_authz) on a real sidecar, against a real external authorizer
// process (samples/extauthz/ext-authz.ts, Istio's sample's behaviour), driven by curl: Istio's
// "External authorization" task with the gRPC and the HTTP provider (x-ext-authz: allow → 200 and
// the authorizer's header reaches the app; deny → 403 with its body; a path no CUSTOM rule names
// never reaches the authorizer), then failOpen, timeout and statusOnError with the authorizer
// stopped (SIGSTOP: slow) and killed.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { formatResponseFlags } from "../../src/proxy/request/response-flags.ts";
import { forward, proxyConfig, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const NODE = process.execPath;
const AUTHORIZER = new URL("../../samples/extauthz/ext-authz.ts", import.meta.url).pathname;
const catchAll = { headers: [], queryParams: [], ignoreUriCase: false };
const GRPC_CLUSTER = "outbound|9000||ext-authz.foo.svc.cluster.local";
const HTTP_CLUSTER = "outbound|8000||ext-authz.foo.svc.cluster.local";
const DENY_BODY = "denied by ext_authz for not found header `x-ext-authz: allow` in the request";

interface Authorizer {
  proc: ChildProcess;
  httpPort: number;
  grpcPort: number;
  log: string;
}

/** Start the sample authorizer on free ports; resolves once both servers said they listen. */
async function startAuthorizer(): Promise<Authorizer> {
  const proc = spawn(NODE, [AUTHORIZER], { env: { ...process.env, HTTP_PORT: "0", GRPC_PORT: "0", HOST: "127.0.0.1" }, stdio: ["ignore", "pipe", "inherit"] });
  const a: Authorizer = { proc, httpPort: 0, grpcPort: 0, log: "" };
  await new Promise<void>((resolve, reject) => {
    proc.on("exit", (code) => reject(new Error(`authorizer exited with ${code}`)));
    proc.stdout?.on("data", (b: Buffer) => {
      a.log += b.toString();
      a.httpPort ||= Number(/Starting HTTP server at [^\n]*:(\d+)/.exec(a.log)?.[1] ?? 0);
      a.grpcPort ||= Number(/Starting gRPC server at [^\n]*:(\d+)/.exec(a.log)?.[1] ?? 0);
      if (a.httpPort > 0 && a.grpcPort > 0) resolve();
    });
  });
  return a;
}

function provider(protocol: "http" | "grpc", extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `sample-ext-authz-${protocol}`,
    protocol,
    cluster: protocol === "grpc" ? GRPC_CLUSTER : HTTP_CLUSTER,
    authority: `ext-authz.foo.svc.cluster.local:${protocol === "grpc" ? 9000 : 8000}`,
    timeoutMs: 600_000,
    failOpen: false,
    statusOnError: 403,
    pathPrefix: "",
    includeRequestHeaders: protocol === "http" ? ["x-ext-authz"] : [],
    includeAdditionalHeaders: [],
    headersToUpstreamOnAllow: [],
    headersToDownstreamOnDeny: [],
    headersToDownstreamOnAllow: [],
    ...extra,
  };
}

/** The task's policy: CUSTOM on /headers only (as translation writes it: a DENY-action rule). */
function extAuthz(p: Record<string, unknown>): object {
  const policy = { name: `istio-ext-authz-${p.name as string}-ns[foo]-policy[ext-authz]`, namespace: "foo", action: "DENY", dryRun: false, rules: [{ to: [{ operation: { paths: ["/headers"] } }] }] };
  return { name: "ext_authz", config: { policies: [policy], useRemoteAddress: false, trustedHops: 0, provider: p } };
}

let version = 0;
function config(port: number, upstream: number, authz: Authorizer, filters: object[]): Record<string, unknown> {
  const c = proxyConfig({
    version: String(++version),
    virtualHosts: [{ domains: ["*"], routes: [route("r", catchAll, forward("httpbin"))] }],
    clusters: [
      { name: "httpbin", endpoints: [{ port: upstream }] },
      { name: GRPC_CLUSTER, endpoints: [{ port: authz.grpcPort }] },
      { name: HTTP_CLUSTER, endpoints: [{ port: authz.httpPort }] },
    ],
  }) as { listeners: Record<string, unknown>[]; clusters: Record<string, unknown>[] };
  c.listeners[0]!.port = port;
  c.listeners[0]!.httpFilters = [...filters, { name: "cors" }, { name: "fault" }, { name: "router" }];
  (c.clusters.find((x) => x.name === GRPC_CLUSTER) as Record<string, unknown>).protocol = "http2";
  return c;
}

/** curl: `<status> <body>`, and the response headers. */
function curl(port: number, path: string, headers: string[] = []): Promise<{ line: string; headers: string }> {
  return new Promise((resolve, reject) => {
    const args = ["-sS", "-D", "-", "-w", "\n%{http_code}", "--max-time", "20", ...headers.flatMap((h) => ["-H", h]), `http://127.0.0.1:${port}${path}`];
    execFile("curl", args, { timeout: 30_000 }, (e, stdout) => {
      if (e) return reject(e);
      const nl = stdout.lastIndexOf("\n");
      const split = stdout.indexOf("\r\n\r\n");
      resolve({ line: `${stdout.slice(nl + 1)} ${stdout.slice(split + 4, nl)}`, headers: stdout.slice(0, split).toLowerCase() });
    });
  });
}

describe("CUSTOM AuthorizationPolicy: Istio's External authorization task on a sidecar", () => {
  let up: Upstream;
  let authz: Authorizer;
  let proxy: RunningProxy;
  const apply = async (filters: object[]): Promise<void> => {
    const r = await proxy.sidecar.applyConfig(config(proxy.port, up.port, authz, filters));
    assert.equal(r.ok, true, r.ok ? "" : r.error);
  };
  before(async () => {
    // The app echoes the headers it received (httpbin's /headers, as the task reads them).
    up = await startUpstream("httpbin", (req, res) => res.end(JSON.stringify(req.headers)));
    authz = await startAuthorizer();
    proxy = await startProxy(config(0, up.port, authz, [extAuthz(provider("grpc"))]), { adminPort: 0 });
  });
  after(async () => {
    await proxy.close();
    await up.close();
    if (authz.proc.exitCode === null) authz.proc.kill("SIGKILL");
  });

  it("gRPC provider: deny → 403 with the authorizer's body, allow → 200 with its header upstream, /ip never asks", async () => {
    const before = authz.log.length;
    const denied = await curl(proxy.port, "/headers", ["x-ext-authz: deny"]);
    assert.equal(denied.line, `403 ${DENY_BODY}`);
    assert.match(denied.headers, /x-ext-authz-check-result: denied/);
    const allowed = await curl(proxy.port, "/headers", ["x-ext-authz: allow"]);
    assert.match(allowed.line, /^200 /);
    assert.equal(JSON.parse(allowed.line.slice(4))["x-ext-authz-check-result"], "allowed");
    assert.match((await curl(proxy.port, "/ip")).line, /^200 /);
    const log = authz.log.slice(before);
    assert.equal(log.match(/\[gRPCv3\]\[denied\]/g)?.length, 1, log);
    assert.equal(log.match(/\[gRPCv3\]\[allowed\]/g)?.length, 1, log);
    assert.doesNotMatch(log, /\/ip/);
    assert.match(log, /"protocol":"HTTP\/1.1"/);
  });

  it("HTTP provider: includeRequestHeadersInCheck forwards x-ext-authz; headersToUpstreamOnAllow / ToDownstreamOnAllow copy the answer's headers", async () => {
    await apply([extAuthz(provider("http", { headersToUpstreamOnAllow: ["x-ext-authz-check-result"], headersToDownstreamOnAllow: ["x-ext-authz-check-*"] }))]);
    const denied = await curl(proxy.port, "/headers", ["x-ext-authz: deny"]);
    assert.equal(denied.line, `403 ${DENY_BODY}`);
    assert.match(denied.headers, /x-ext-authz-check-result: denied/);
    const allowed = await curl(proxy.port, "/headers", ["x-ext-authz: allow"]);
    assert.match(allowed.line, /^200 /);
    assert.equal(JSON.parse(allowed.line.slice(4))["x-ext-authz-check-result"], "allowed");
    assert.match(allowed.headers, /x-ext-authz-check-result: allowed/);
    assert.match(allowed.headers, /x-ext-authz-check-received: get /);
    assert.match(authz.log, /\[HTTP\]\[allowed\]: GET 127\.0\.0\.1:\d+\/headers/);
  });

  it("a slow authorizer: timeout → statusOnError (503) with flag UAEX, or the request goes through with failOpen", async () => {
    authz.proc.kill("SIGSTOP");
    try {
      await apply([extAuthz(provider("grpc", { timeoutMs: 300, statusOnError: 503 }))]);
      assert.equal((await curl(proxy.port, "/headers", ["x-ext-authz: allow"])).line, "503 ");
      assert.equal(formatResponseFlags(proxy.records.at(-1)?.flags ?? 0), "UAEX");
      await apply([extAuthz(provider("http", { timeoutMs: 300, failOpen: true }))]);
      assert.match((await curl(proxy.port, "/headers", ["x-ext-authz: deny"])).line, /^200 /);
    } finally {
      authz.proc.kill("SIGCONT");
    }
  });

  it("a killed authorizer: 403 (Envoy's default status on error), or through with failOpen; counters on /stats", async () => {
    authz.proc.kill("SIGKILL");
    await once(authz.proc, "exit");
    await apply([extAuthz(provider("http"))]);
    assert.equal((await curl(proxy.port, "/headers", ["x-ext-authz: allow"])).line, "403 ");
    await apply([extAuthz(provider("grpc", { failOpen: true }))]);
    assert.match((await curl(proxy.port, "/headers", ["x-ext-authz: deny"])).line, /^200 /);
    const stats = (await curl(proxy.sidecar.adminPort as number, "/stats")).line;
    const value = (name: string): number => Number(new RegExp(`^${name.replace(/[.]/g, "\\.")}: (\\d+)$`, "m").exec(stats)?.[1]);
    assert.equal(value("http.outbound.ext_authz.denied"), 2, stats);
    assert.equal(value("http.outbound.ext_authz.ok"), 2, stats);
    assert.equal(value("http.outbound.ext_authz.failure_mode_allowed"), 2, stats);
    // Errors: the slow gRPC and HTTP checks, the killed HTTP and gRPC ones.
    assert.equal(value("http.outbound.ext_authz.error"), 4, stats);
    assert.equal(value("http.outbound.ext_authz.disabled"), 1, stats);
  });
});
