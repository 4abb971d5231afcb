// `amime up` with TCP and TLS service ports beside bookinfo: samples/redis (Debian's redis-server
// behind a `tcp-` Service port) and an HTTPS ServiceEntry (www.google.com:443; only its config is
// checked, nothing connects to it). Every sidecar needs its own local port for each of them, or
// all but one fail to bind and NACK. Apps reach redis through their own sidecar with the
// Kubernetes-style REDIS_SERVICE_HOST / REDIS_SERVICE_PORT, and listen on the HOST they are given.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { ProxyStatus } from "../../src/model/wire.ts";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, get, randomPortBase, ROOT, UpRun } from "./up-harness.ts";

const REDIS = "redis.default.svc.cluster.local";

describe("amime up with a TCP service and an HTTPS ServiceEntry", { timeout: 150_000 }, () => {
  let run: UpRun;
  let state: UpState;
  const json = async <T,>(path: string): Promise<T> => JSON.parse((await get(`${state.controlPlane}${path}`, run.auth())).body) as T;

  before(async () => {
    run = new UpRun(["-f", join(ROOT, "samples", "bookinfo"), "-f", join(ROOT, "samples", "redis"), "-f", join(ROOT, "test", "e2e", "fixtures", "egress"), "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted(60_000);
  });
  after(() => run.cleanup());

  it("every proxy is connected and SYNCED", async () => {
    const expected = state.instances.length + 1;
    let last: ProxyStatus[] = [];
    const synced = async (): Promise<boolean> => {
      last = await json<ProxyStatus[]>("/api/v1/proxies");
      return last.length === expected && last.every((p) => p.connected && p.state === "SYNCED");
    };
    assert.ok(await eventually(synced, 20_000), JSON.stringify(last.map((p) => [p.node, p.state, p.error ?? ""])));
  });

  it("each sidecar has its own local port for redis:6379 and www.google.com:443", async () => {
    const seen = new Map<number, string>();
    for (const i of state.instances) {
      const config = await json<ProxyConfig>(`/api/v1/proxies/${encodeURIComponent(`sidecar~${i.name}.${i.namespace}`)}/config`);
      for (const name of [`outbound_tcp|6379|${REDIS}`, "outbound_tcp|443|www.google.com"]) {
        const l = config.listeners.find((x) => x.name === name);
        assert.ok(l, `${i.name} has ${name}`);
        assert.ok(!seen.has(l.port), `${i.name} ${name} on ${l.port}, also used by ${seen.get(l.port)}`);
        seen.set(l.port, `${i.name} ${name}`);
      }
    }
  });

  it("amime exec reaches redis through the exec'd instance's sidecar with REDIS_SERVICE_HOST/PORT", async () => {
    for (const who of ["curl", "productpage-v1"]) {
      const r = run.amime(["exec", who, "--", "sh", "-c", 'echo "$REDIS_SERVICE_HOST $REDIS_SERVICE_PORT $REDIS_SERVICE_PORT_TCP_REDIS"; redis-cli -h "$REDIS_SERVICE_HOST" -p "$REDIS_SERVICE_PORT" ping']);
      assert.equal(r.status, 0, r.stderr);
      const [vars, reply] = r.stdout.trim().split("\n");
      const [host, port, named] = (vars ?? "").split(" ");
      const inst = state.instances.find((i) => i.workload === who)!;
      const config = await json<ProxyConfig>(`/api/v1/proxies/${encodeURIComponent(`sidecar~${inst.name}.default`)}/config`);
      assert.equal(host, "127.0.0.1");
      assert.equal(Number(port), config.listeners.find((l) => l.name === `outbound_tcp|6379|${REDIS}`)?.port, `${who}: its own sidecar's listener`);
      assert.equal(named, port);
      assert.equal(reply, "PONG");
    }
    // An HTTP service is reached by name through HTTP_PROXY.
    const http = run.amime(["exec", "curl", "--", "sh", "-c", 'curl -s -m 10 -o /dev/null -w "%{http_code}" "http://$DETAILS_SERVICE_HOST:$DETAILS_SERVICE_PORT/details/0"']);
    assert.equal(http.stdout, "200", http.stderr);
  });

  it("apps get HOST=127.0.0.1 and REDIS_SERVICE_PORT, and listen on loopback only", () => {
    const listening = loopbackOnlyListeners();
    for (const i of state.instances) {
      const env = appEnvironment(i.pid!, i.name);
      assert.equal(env.HOST, "127.0.0.1", i.name);
      assert.match(env.REDIS_SERVICE_PORT ?? "", /^\d+$/, i.name);
      if (i.appPort !== null) assert.equal(listening.get(i.appPort), true, `${i.name} listens on 127.0.0.1:${i.appPort} only`);
    }
  });
});

/** The environment of the process in `group` that runs the app (AMIME_INSTANCE set, not the guard). */
function appEnvironment(group: number, instance: string): Record<string, string> {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== group) continue;
      const env = Object.fromEntries(readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
      if (env.AMIME_INSTANCE === instance && env.HOST !== undefined) return env;
    } catch {
      // gone meanwhile
    }
  }
  return {};
}

/** Listening TCP ports → true when every socket on that port is bound to 127.0.0.1 (from /proc/net/tcp{,6}). */
function loopbackOnlyListeners(): Map<number, boolean> {
  const out = new Map<number, boolean>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== "0A") continue; // LISTEN
      const [addr, port] = (f[1] ?? "").split(":");
      const p = parseInt(port ?? "", 16);
      out.set(p, (out.get(p) ?? true) && addr === "0100007F");
    }
  }
  return out;
}
