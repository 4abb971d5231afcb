// Harness for the CLI tests: `amime …` run as real processes (every command's tests), and for the
// commands that talk to a running control plane, a real ControlPlane started in the test process
// on port 0 with bookinfo config in a temp dir, and a minimal push-stream client that registers, connects and ACKs/NACKs like a
// sidecar would (so tests need not start proxy processes unless they test that).
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControlPlane } from "../../src/control-plane/server.ts";
import type { InstanceRegistration, PushMessage } from "../../src/model/wire.ts";
import { trustMeshRoot } from "../support/mesh-root.ts";
import { unusedPort } from "../support/ports.ts";

const ROOT = join(import.meta.dirname, "..", "..");
export const NODE = join(ROOT, "node_modules", ".bin", "node");
export const BIN = join(ROOT, "bin", "amime.js");
export const BOOKINFO = join(ROOT, "test", "fixtures", "istio", "samples", "bookinfo");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `amime ARGS` as a child process, killed after 30 s; the caller's AMIME_CONTROL_PLANE, credentials and root never leak in. */
export function amime(args: readonly string[], opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  for (const k of ["AMIME_CONTROL_PLANE", "AMIME_TOKEN", "AMIME_TOKEN_FILE", "AMIME_ROOT_CERT"]) if (!opts.env?.[k]) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ["pipe", "pipe", "pipe"], timeout: 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    // The CLI may exit before it reads its input: its exit status tells the story.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.stdin ?? "");
  });
}

export interface TestMesh {
  cp: ControlPlane;
  url: string;
  /** The admin credential and the file it is in (`<dir>/.amime/admin-token`). */
  token: string;
  tokenFile: string;
  /** `--control-plane URL --token-file FILE`, for every amime command run against this mesh. */
  cliArgs: string[];
  /** Temp dir holding config/ (the control plane's files) and scratch files. */
  dir: string;
  close(): Promise<void>;
}

/**
 * A control plane on port 0 whose config dir holds bookinfo's Services, destination-rule-all and
 * the given extra bookinfo networking files (copied), plus `extra` files written verbatim.
 */
export async function startMesh(networking: readonly string[], extra: Record<string, string> = {}): Promise<TestMesh> {
  const dir = await mkdtemp(join(tmpdir(), "amime-cli-"));
  const config = join(dir, "config");
  await mkdir(config);
  await copyFile(join(BOOKINFO, "platform", "kube", "bookinfo.yaml"), join(config, "bookinfo.yaml"));
  for (const f of ["destination-rule-all.yaml", ...networking]) await copyFile(join(BOOKINFO, "networking", f), join(config, f));
  for (const [name, text] of Object.entries(extra)) await writeFile(join(config, name), text);
  const cp = await ControlPlane.start({ port: 0, configPaths: [config], watch: false, debounceMs: 5, stateDir: join(dir, ".amime") });
  const tokenFile = cp.adminTokenFile as string;
  // The CLI finds the root beside the token file; this process's own fetches trust it here.
  trustMeshRoot(cp.trustBundle);
  return {
    cp, url: cp.url, dir, token: cp.adminToken, tokenFile, cliArgs: ["--control-plane", cp.url, "--token-file", tokenFile],
    close: async () => {
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Registration of `<app>-<version>-0` in default, as the local runtime would send it. */
export function registration(app: string, version: string, address: string, ready = true): InstanceRegistration {
  const name = `${app}-${version}-0`;
  const nodeId = `sidecar~${name}.default`;
  const labels = { app, version };
  return {
    instance: { name, namespace: "default", labels, serviceAccount: `bookinfo-${app}`, address, ready },
    nodeId,
    node: { id: nodeId, kind: "sidecar", workload: `${app}-${version}`, namespace: "default", labels, serviceAccount: `bookinfo-${app}`, trustDomain: "cluster.local", ip: address },
    outboundPort: 15001,
  };
}

export async function register(mesh: TestMesh, reg: InstanceRegistration): Promise<void> {
  const r = await fetch(`${mesh.url}/api/v1/instances/${reg.instance.namespace}/${reg.instance.name}`, { method: "PUT", headers: { authorization: `Bearer ${mesh.token}` }, body: JSON.stringify(reg) });
  if (r.status !== 200) throw new Error(`register ${reg.instance.name}: ${r.status} ${await r.text()}`);
}

export interface StreamClient {
  /** Versions received so far. */
  versions: string[];
  close(): void;
}

/**
 * Opens the push stream as node `node` and answers each config push: ACK, NACK with `nack`, or
 * nothing when `silent`.
 * Resolves once the first config arrived and was answered (or right away when `waitForConfig` is false).
 */
export async function connectStream(mesh: TestMesh, node: string, opts: { nack?: string; silent?: boolean; waitForConfig?: boolean } = {}): Promise<StreamClient> {
  const url = mesh.url;
  const abort = new AbortController();
  // The proxy's own credential, as the runtime would hand it to the sidecar process.
  const auth = { authorization: `Bearer ${mesh.cp.mintProxyToken({ node, namespace: node.slice(node.lastIndexOf(".") + 1), serviceAccount: "default" })}` };
  const res = await fetch(`${url}/xds/v1/stream?node=${encodeURIComponent(node)}`, { headers: auth, signal: abort.signal });
  if (!res.ok || !res.body) throw new Error(`stream ${node}: ${res.status}`);
  const client: StreamClient = { versions: [], close: () => abort.abort() };
  let first: () => void = () => {};
  const firstAnswered = new Promise<void>((resolve) => (first = resolve));
  void (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          const msg = JSON.parse(buf.slice(0, nl)) as PushMessage;
          buf = buf.slice(nl + 1);
          if (msg.type !== "config") continue;
          client.versions.push(msg.version);
          if (opts.silent) {
            first();
            continue;
          }
          const ack = { node, version: msg.version, nonce: msg.nonce, accepted: opts.nack === undefined, ...(opts.nack !== undefined ? { error: opts.nack } : {}) };
          await fetch(`${url}/xds/v1/ack`, { method: "POST", headers: auth, body: JSON.stringify(ack) });
          first();
        }
      }
    } catch {
      // Aborted by close() or the control plane shutting down.
    }
  })();
  if (opts.waitForConfig !== false) await firstAnswered;
  return client;
}

/** A loopback port nothing listens on, outside the ephemeral range (see test/support/ports.ts). */
export function closedPort(): Promise<number> {
  return unusedPort();
}
