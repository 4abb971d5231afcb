// CUSTOM AuthorizationPolicy on a TCP port (Envoy's network ext_authz, gRPC providers only, as
// Istio): a real sidecar's TCP listener runs ext_authz before tcp_proxy, the authorizer is a real
// Envoy ext_authz v3 gRPC server on a socket (its verdict set by the test), the probe is
// `echo … | nc`. Denied → closed with nothing relayed; allowed → relayed; a connection no CUSTOM
// rule matches never reaches the authorizer; an authorizer gone → closed, or relayed with failOpen.
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { authorizationService } from "../../src/proxy/http/filters/ext-authz/grpc-check.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { unusedPort } from "../support/ports.ts";
import { closeServer, config, listen, run } from "../protocols/harness.ts";

const AUTHZ_CLUSTER = "outbound|9000||ext-authz.foo.svc.cluster.local";

/** tcp-echo: answers `hello <bytes>` once the client half-closes; counts connections. */
function tcpEcho(): Server & { connections: number } {
  const s = createServer({ allowHalfOpen: true }, (c: Socket) => {
    srv.connections++;
    const chunks: Buffer[] = [];
    c.on("data", (b: Buffer) => chunks.push(b));
    c.on("end", () => c.end(`hello ${Buffer.concat(chunks).toString()}`));
    c.on("error", () => undefined);
  });
  const srv = Object.assign(s, { connections: 0 });
  return srv;
}

interface Authorizer {
  server: grpc.Server;
  port: number;
  verdict: "allow" | "deny";
  /** CheckRequest attributes seen, in order. */
  seen: { source: { principal: string; address: { socket_address: { address: string } } }; request: unknown }[];
}

async function startAuthorizer(): Promise<Authorizer> {
  const pkg = authorizationService() as unknown as { envoy: { service: { auth: { v3: { Authorization: { service: grpc.ServiceDefinition } } } } } };
  const server = new grpc.Server();
  const a: Authorizer = { server, port: 0, verdict: "deny", seen: [] };
  server.addService(pkg.envoy.service.auth.v3.Authorization.service, {
    Check: (call: grpc.ServerUnaryCall<{ attributes: Authorizer["seen"][number] }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      a.seen.push(call.request.attributes);
      cb(null, { status: { code: a.verdict === "allow" ? grpc.status.OK : grpc.status.PERMISSION_DENIED } });
    },
  });
  a.port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return a;
}

describe("CUSTOM AuthorizationPolicy on a TCP port (network ext_authz, gRPC provider)", () => {
  const echo = tcpEcho();
  let authz: Authorizer;
  let sidecar: Sidecar;
  let ports: number[] = [];
  let version = 0;
  const extAuthz = (failOpen: boolean): object => ({
    name: "ext_authz",
    config: {
      // CUSTOM on the first port only; `methods` is HTTP-only: dropped on TCP (a DENY-action rule widens), as Istio.
      policies: [{ name: "istio-ext-authz-grpc-ns[foo]-policy[ext-authz]", namespace: "foo", action: "DENY", dryRun: false, rules: [{ to: [{ operation: { ports: [String(ports[0])], methods: ["GET"] } }] }] }],
      useRemoteAddress: false, trustedHops: 0,
      provider: { name: "grpc", protocol: "grpc", cluster: AUTHZ_CLUSTER, authority: "ext-authz.foo.svc.cluster.local:9000", timeoutMs: 5000, failOpen, statusOnError: 403, pathPrefix: "", includeRequestHeaders: [], includeAdditionalHeaders: [], headersToUpstreamOnAllow: [], headersToDownstreamOnDeny: [], headersToDownstreamOnAllow: [] },
    },
  });
  const cfg = (failOpen: boolean, echoPort: number): object => ({
    ...config(
      ports.map((p) => ({ name: `inbound|${p}`, direction: "inbound", address: "127.0.0.1", port: p, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "inbound|tcp-echo", weight: 100 }] }, networkFilters: [extAuthz(failOpen), { name: "tcp_proxy" }] })),
      [{ name: "inbound|tcp-echo", endpoints: [{ port: echoPort }] }, { name: AUTHZ_CLUSTER, protocol: "http2", endpoints: [{ port: authz.port }] }],
    ),
    version: String(++version),
  });
  let echoPort = 0;
  const probe = async (port: number): Promise<string> => (await run("nc", ["-N", "127.0.0.1", String(port)], `port ${port}\n`, 20_000)).stdout.trim();

  before(async () => {
    echoPort = await listen(echo);
    authz = await startAuthorizer();
    const base = await unusedPort(2);
    ports = [base, base + 1];
    sidecar = await Sidecar.start(cfg(false, echoPort), { adminPort: 0 });
  });
  after(async () => {
    await sidecar.close(100);
    await closeServer(echo);
    authz.server.forceShutdown();
  });

  it("denied: closed before any upstream is dialed; allowed: relayed; the authorizer sees the connection's peer", async () => {
    const before = echo.connections;
    assert.equal(await probe(ports[0] as number), "");
    assert.equal(echo.connections, before, "nothing relayed");
    authz.verdict = "allow";
    assert.equal(await probe(ports[0] as number), `hello port ${ports[0]}`);
    assert.equal(authz.seen.length, 2);
    assert.equal(authz.seen[0]?.source.address.socket_address.address, "127.0.0.1");
    assert.equal(authz.seen[0]?.source.principal, "", "plaintext: no principal");
    assert.equal(authz.seen[0]?.request, null, "no HTTP request on a connection");
  });

  it("a port no CUSTOM rule names: relayed without asking the authorizer", async () => {
    authz.verdict = "deny";
    const asked = authz.seen.length;
    assert.equal(await probe(ports[1] as number), `hello port ${ports[1]}`);
    assert.equal(authz.seen.length, asked);
  });

  it("the authorizer gone: closed; with failOpen, relayed; counters on /stats", async () => {
    authz.server.forceShutdown();
    assert.equal(await probe(ports[0] as number), "");
    const r = await sidecar.applyConfig(cfg(true, echoPort));
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    assert.equal(await probe(ports[0] as number), `hello port ${ports[0]}`);
    const stats = (await run("curl", ["-sS", `http://127.0.0.1:${sidecar.adminPort}/stats`], "", 20_000)).stdout;
    const value = (name: string): number => Number(new RegExp(`^${name.replace(/[.|]/g, "\\$&")}: (\\d+)$`, "m").exec(stats)?.[1]);
    const l = `tcp.inbound|${ports[0]}.ext_authz`;
    assert.equal(value(`${l}.denied`), 1, stats);
    assert.equal(value(`${l}.ok`), 1, stats);
    assert.equal(value(`${l}.error`), 2, stats);
    assert.equal(value(`${l}.failure_mode_allowed`), 1, stats);
    assert.equal(value(`tcp.inbound|${ports[1]}.ext_authz.disabled`), 1, stats);
  });
});
