// A small real mesh for control-plane tests: config files in a temp dir, real upstream apps,
// `amime proxy --xds` processes, and instance registrations as the local runtime would send them.
import { meshRootFile, trustMeshRoot } from "../support/mesh-root.ts";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ControlPlane } from "../../src/control-plane/server.ts";
import type { InstanceRegistration } from "../../src/model/wire.ts";
import { closedPort, send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { waitFor as waitUntil } from "../support/wait.ts";
import { SIDECAR_NODE_FLAGS, sidecarEnv } from "../../src/core/sidecar-node-flags.ts";
import type { SidecarLaunch } from "../../src/runtime/js-build/sidecar-launch.ts";

const root = join(import.meta.dirname, "..", "..");
export const NODE = join(root, "node_modules", ".bin", "node");
export const BIN = join(root, "bin", "amime.js");

export const SERVICES_YAML = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

/** A VirtualService for reviews sending everything to one subset (the route carries `extra` fields). */
export function reviewsTo(subset: string, extra = ""): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: ${subset}}
${extra}`;
}

export interface MeshProxy {
  name: string;
  nodeId: string;
  registration: InstanceRegistration;
  /** The proxy's outbound listener port (where its app sends requests). */
  outboundPort: number;
  child?: ChildProcessWithoutNullStreams;
  stderr: string;
}

/** Registration of one instance and its sidecar; `inbound` maps the service port to [sidecar port, app port]. */
export async function meshProxy(app: string, version: string, inbound?: { servicePort: number; appPort: number }): Promise<MeshProxy> {
  const name = `${app}-${version}-0`;
  const nodeId = `sidecar~${name}.default`;
  const outboundPort = await closedPort();
  const labels = { app, version };
  const sidecarInbound = inbound ? await closedPort() : 0;
  const registration: InstanceRegistration = {
    instance: {
      name, namespace: "default", labels, serviceAccount: app, address: "127.0.0.1", ready: true,
      ...(inbound ? { ports: { [String(inbound.servicePort)]: sidecarInbound }, appPorts: { [String(inbound.servicePort)]: inbound.appPort } } : {}),
    },
    nodeId,
    node: { id: nodeId, kind: "sidecar", workload: `${app}-${version}`, namespace: "default", labels, serviceAccount: app, trustDomain: "cluster.local", ip: "127.0.0.1" },
    outboundPort,
  };
  return { name, nodeId, registration, outboundPort, stderr: "" };
}

/**
 * The reviews mesh of the push suites: a config dir (the reviews Service and DestinationRule, a
 * VirtualService sending reviews to v1), a state dir, the apps reviews-v1 and reviews-v2, and the
 * registrations of three proxies: productpage (the client, first), reviews v1 and v2. `close`
 * stops the proxies and apps and removes the dirs (the control plane is the suite's to close).
 */
export interface ReviewsMesh {
  dir: string;
  stateDir: string;
  v1: Upstream;
  v2: Upstream;
  client: MeshProxy;
  proxies: MeshProxy[];
  close(): Promise<void>;
}

export async function reviewsMesh(prefix: string): Promise<ReviewsMesh> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const stateDir = mkdtempSync(join(tmpdir(), `${prefix}-state-`));
  writeFileSync(join(dir, "services.yaml"), SERVICES_YAML);
  writeFileSync(join(dir, "reviews-vs.yaml"), reviewsTo("v1"));
  const v1 = await startUpstream("reviews-v1");
  const v2 = await startUpstream("reviews-v2");
  const client = await meshProxy("productpage", "v1");
  const proxies = [client, await meshProxy("reviews", "v1", { servicePort: 9080, appPort: v1.port }), await meshProxy("reviews", "v2", { servicePort: 9080, appPort: v2.port })];
  return {
    dir, stateDir, v1, v2, client, proxies,
    close: async () => {
      await Promise.all(proxies.map(stopProxy));
      await v1.close();
      await v2.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * The config files of a reviews mesh (services.yaml, vs.yaml routing reviews to v1) in a temp dir, and
 * a reviews-v1 app: for tests that run their own control plane and push client. `close` stops the app
 * and removes the dir.
 */
export interface ReviewsConfig {
  dir: string;
  app: Upstream;
  close(): Promise<void>;
}

export async function reviewsConfig(prefix: string): Promise<ReviewsConfig> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  writeFileSync(join(dir, "services.yaml"), SERVICES_YAML);
  writeFileSync(join(dir, "vs.yaml"), reviewsTo("v1"));
  const app = await startUpstream("reviews-v1");
  return {
    dir, app,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The admin's Authorization header for `cp`'s API. */
export function adminAuth(cp: ControlPlane): Record<string, string> {
  return { authorization: `Bearer ${cp.adminToken}` };
}

export async function register(cp: ControlPlane, p: MeshProxy): Promise<void> {
  trustMeshRoot(cp.trustBundle);
  const r = await fetch(`${cp.url}/api/v1/instances/default/${p.name}`, { method: "PUT", headers: adminAuth(cp), body: JSON.stringify(p.registration) });
  if (r.status !== 200) throw new Error(`register ${p.name}: ${r.status} ${await r.text()}`);
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Start `amime proxy --xds URL --node ID` with a credential minted for it (as the runtime does);
 * resolves with its ready line once its first config is applied. With `replicas`, the proxy is
 * given every replica's URL (`--xds A,B,…`); `adminPort` 0 gives it an admin listener (the ready line's `admin`).
 */
/** How spawnProxy starts a sidecar by default: the TypeScript sources through bin/amime.js, with the sidecar's flags (no build needed). */
const FROM_SOURCES: Pick<SidecarLaunch, "command" | "args"> = { command: NODE, args: [...SIDECAR_NODE_FLAGS, BIN] };

export function spawnProxy(cp: ControlPlane, p: MeshProxy, env: Record<string, string> = {}, replicas: readonly ControlPlane[] = [cp], adminPort = -1, launch: Pick<SidecarLaunch, "command" | "args"> = FROM_SOURCES): Promise<{ ready: boolean; version: string; listeners: Record<string, number>; node: string; admin: number | null }> {
  const token = cp.mintProxyToken({ node: p.nodeId, namespace: p.registration.instance.namespace, serviceAccount: p.registration.instance.serviceAccount });
  // As the runtimes start sidecars: their Node flags and environment (OpenSSL's default store empty, src/core/sidecar-node-flags.ts).
  const child = spawn(launch.command, [...launch.args, "proxy", "--xds", replicas.map((r) => r.url).join(","), "--root-cert", meshRootFile(cp), "--node", p.nodeId, "--admin-port", String(adminPort)], { stdio: ["pipe", "pipe", "pipe"], env: { ...sidecarEnv(process.env), AMIME_PROXY_TOKEN: token, ...env } });
  p.child = child;
  child.stderr.on("data", (d: Buffer) => (p.stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`proxy ${p.name} not ready after ${READY_TIMEOUT_MS} ms: ${p.stderr}`)), READY_TIMEOUT_MS);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(t);
      resolve(JSON.parse(out.slice(0, nl)));
    });
    child.on("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`proxy ${p.name} exited ${code}: ${p.stderr}`));
    });
  });
}

export async function stopProxy(p: MeshProxy): Promise<number | null> {
  const child = p.child;
  if (!child || child.exitCode !== null) return child?.exitCode ?? null;
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.on("exit", (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill("SIGTERM");
  });
}

/** Concurrent request loops through a sidecar's outbound port (a new downstream connection each), counting answers until stopped. */
export interface RequestLoops {
  readonly ok: number;
  readonly failures: readonly string[];
  /** Stop the loops; resolves when every request in flight has answered. */
  stop(): Promise<void>;
}

export function requestLoops(outboundPort: number, host: string, count = 4): RequestLoops {
  let stopped = false;
  let ok = 0;
  const failures: string[] = [];
  const loop = async (i: number): Promise<void> => {
    for (let n = 0; !stopped; n++) {
      const r = await send(outboundPort, { host, path: `/${i}/${n}` }).catch((e: Error) => ({ status: 0, body: e.message }));
      if (r.status === 200) ok++;
      else failures.push(`loop ${i}: ${r.status} ${r.body.slice(0, 120)}`);
    }
  };
  const loops = Array.from({ length: count }, (_, i) => loop(i));
  return {
    get ok() {
      return ok;
    },
    failures,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Poll `check` until it returns a truthy value, or fail naming `what` (test/support/wait.ts). */
export function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 8000): Promise<T> {
  return waitUntil(check, { what, timeoutMs, everyMs: 20 });
}
