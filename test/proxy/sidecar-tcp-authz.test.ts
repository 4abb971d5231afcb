// AuthorizationPolicy on TCP ports on a real sidecar (the rbac network filter before tcp_proxy),
// reproducing Istio's "Authorization for TCP traffic" task with its own policies
// (test/fixtures/istio/istio.io-tasks/security/authz-tcp.yaml, outcomes in authz-tcp.expected.md):
// the probe is the task's `echo "port N" | nc <target> N` against a tcp-echo-like upstream that
// answers `hello <input>`. The task's ports 9000/9001/9002 are three inbound listeners on named
// free ports; the policies' port values are mapped to them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { unusedPort } from "../support/ports.ts";
import { closeServer, config, listen, run } from "../protocols/harness.ts";

const TASK = new URL("../fixtures/istio/istio.io-tasks/security/authz-tcp.yaml", import.meta.url);
const TASK_PORTS = [9000, 9001, 9002] as const;

interface Spec { action?: string; rules?: unknown[] }
const steps: Spec[] = parseAllDocuments(readFileSync(TASK, "utf8")).map((d) => (d.toJS() as { spec: Spec }).spec);

/** tcp-echo: answers `hello <bytes>` once the client half-closes; counts connections and bytes it got. */
function tcpEcho(): Server & { connections: number; bytes: number } {
  const s = createServer({ allowHalfOpen: true }, (c: Socket) => {
    srv.connections++;
    const chunks: Buffer[] = [];
    c.on("data", (b: Buffer) => ((srv.bytes += b.length), chunks.push(b)));
    c.on("end", () => c.end(`hello ${Buffer.concat(chunks).toString()}`));
    c.on("error", () => undefined);
  });
  const srv = Object.assign(s, { connections: 0, bytes: 0 });
  return srv;
}

function adminStats(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--max-time", "20", `http://127.0.0.1:${port}/stats`], { timeout: 30_000 }, (e, stdout) => (e ? reject(e) : resolve(stdout)));
  });
}

describe("AuthorizationPolicy on TCP ports (Istio's Authorization for TCP traffic)", () => {
  const echo = tcpEcho();
  let sidecar: Sidecar;
  let base = 0;
  let version = 0;
  const port = (task: number): number => base + TASK_PORTS.indexOf(task as (typeof TASK_PORTS)[number]);
  const listeners = (rbac: object | null): Record<string, unknown>[] => TASK_PORTS.map((p) => ({
    name: `inbound|${p}`, direction: "inbound", address: "127.0.0.1", port: port(p), protocol: "tcp",
    tcpRoute: { clusters: [{ cluster: "inbound|tcp-echo", weight: 100 }] },
    ...(rbac !== null ? { networkFilters: [{ name: "rbac", config: rbac }, { name: "tcp_proxy" }] } : {}),
  }));
  const cfg = (rbac: object | null): object => ({ ...config(listeners(rbac), [{ name: "inbound|tcp-echo", endpoints: [{ port: echoPort }] }]), version: String(++version) });
  let echoPort = 0;
  /** The task's step as the rbac config translate makes (its port values mapped to the listeners'). */
  const rbacOf = (spec: Spec): object => {
    const rules = JSON.parse(JSON.stringify(spec.rules ?? []).replace(/"(900[0-2])"/g, (_m, p: string) => `"${port(Number(p))}"`)) as unknown[];
    return { policies: [{ name: "ns[foo]-policy[tcp-policy]", namespace: "foo", action: spec.action ?? "ALLOW", dryRun: false, rules }], useRemoteAddress: false, trustedHops: 0 };
  };
  const apply = async (rbac: object | null): Promise<void> => {
    const r = await sidecar.applyConfig(cfg(rbac));
    assert.equal(r.ok, true, r.ok ? "" : r.error);
  };
  /** The task's probe: `echo "port N" | nc tcp-echo N` → the reply ("" when the connection was closed). */
  const probe = async (task: number): Promise<string> => (await run("nc", ["-N", "127.0.0.1", String(port(task))], `port ${task}\n`, 20_000)).stdout.trim();
  /** A denied probe: no reply, and tcp-echo saw no connection and no byte. */
  const rejected = async (task: number): Promise<void> => {
    const before = { connections: echo.connections, bytes: echo.bytes };
    assert.equal(await probe(task), "", `port ${task}`);
    assert.deepEqual({ connections: echo.connections, bytes: echo.bytes }, before, `port ${task}: nothing relayed`);
  };

  before(async () => {
    echoPort = await listen(echo);
    base = await unusedPort(3);
    sidecar = await Sidecar.start(cfg(null), { adminPort: 0 });
  });
  after(async () => {
    await sidecar.close(100);
    await closeServer(echo);
  });

  it("before you begin: no policy, no rbac filter; every port echoes", async () => {
    assert.deepEqual(sidecar.config.listeners.map((l) => l.networkFilters), [undefined, undefined, undefined]);
    for (const p of TASK_PORTS) assert.equal(await probe(p), `hello port ${p}`);
  });

  it("ALLOW ports 9000, 9001: both echo; 9002 is rejected, nothing relayed", async () => {
    await apply(rbacOf(steps[0]!));
    assert.equal(await probe(9000), "hello port 9000");
    assert.equal(await probe(9001), "hello port 9001");
    await rejected(9002);
  });

  it("ALLOW methods GET + port 9000: the HTTP-only field never matches TCP, so 9000 and 9001 are rejected", async () => {
    await apply(rbacOf(steps[1]!));
    await rejected(9000);
    await rejected(9001);
  });

  it("DENY methods GET: the HTTP-only field is ignored, so it denies 9000 and 9001", async () => {
    await apply(rbacOf(steps[2]!));
    await rejected(9000);
    await rejected(9001);
  });

  it("DENY methods GET + port 9000: 9000 is rejected, 9001 echoes", async () => {
    await apply(rbacOf(steps[3]!));
    await rejected(9000);
    assert.equal(await probe(9001), "hello port 9001");
  });

  it("admin /stats: Envoy's network rbac counters per listener, kept across config pushes", async () => {
    const stats = await adminStats(sidecar.adminPort as number);
    const value = (name: string): number => Number(new RegExp(`^${name.replace(/[.|]/g, "\\$&")}: (\\d+)$`, "m").exec(stats)?.[1] ?? 0);
    // The steps above, per task port: allowed / denied.
    assert.deepEqual(TASK_PORTS.map((p) => [value(`tcp.inbound|${p}.rbac.allowed`), value(`tcp.inbound|${p}.rbac.denied`)]), [[1, 3], [2, 2], [0, 1]], stats);
  });
});
