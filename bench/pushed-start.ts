// The start of the sidecar `amime up` runs, taken apart (issue 15): the mesh of bench/targets/pushed.ts
// (a control plane in this process), the instance registered and `amime proxy --xds` started right
// after (built tree, the sidecar's flags and environment, pinned to CPU 0), as bench/memory.ts --via
// push does. Prints one JSON line: spawn → ready (ms), the sidecar's CPU time at its ready line (ms),
// VmRSS and VmHWM there, and again `--hold` ms later (after its first idle collection). `--via file`:
// the same config from a file (the control plane's config for the node, written out) instead, for
// comparison. `--via file-mtls`: from a file too, with a workload certificate the mesh CA issued to
// this node beforehand (`--cert/--key/--root-cert`): a sidecar that can do mutual TLS (node:tls loaded,
// the mesh's TLS context made) but makes no connection to the control plane, no handshake and no key:
// what the push machinery costs beyond TLS itself. `--profile DIR`: a CPU profile of the sidecar to its exit (`--cpu-prof`) and of the
// control plane from the spawn to the ready line (DIR/control-plane.cpuprofile). `--smaps`: the
// sidecar's mappings of 128 kB or more (RSS) after the hold, on stderr. `--after N`: N other
// productpage replicas with sidecars (the same proxy class) registered first, one after another,
// and 1 s left for the control plane to prepare them, as `amime up` starts its sidecars: the start
// of a later sidecar, whose class the control plane has translated before (their sidecars are not
// started). `--add-args="…"` adds V8/Node flags to the sidecar's (a candidate flag's A/B).
//
// Usage: node bench/pushed-start.ts [--services 1000] [--via push|file|file-mtls] [--after 0] [--hold 3000] [--add-args="…"] [--profile DIR] [--smaps]
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SIDECAR_NODE_FLAGS, sidecarEnv } from "../src/core/sidecar-node-flags.ts";
import { WorkloadCertificate, type ActiveCertificate } from "../src/proxy/identity/workload-certificate.ts";
import { sidecarLaunch } from "../src/runtime/js-build/sidecar-launch.ts";
import { benchArgs, exitWithUsage } from "./lib/args.ts";
import { cpuMicros, peakRssMb } from "./lib/proc.ts";
import { freePort, startProxyUntilReady, stopProcess } from "./lib/spawn.ts";
import { startPushedMesh } from "./targets/pushed.ts";

const USAGE = "Usage: node bench/pushed-start.ts [--services 1000] [--via push|file|file-mtls] [--after 0] [--hold 3000] [--add-args=\"…\"] [--profile DIR] [--smaps]";
const { values } = benchArgs({ options: { services: { type: "string", default: "0" }, via: { type: "string", default: "push" }, after: { type: "string", default: "0" }, hold: { type: "string", default: "3000" }, "add-args": { type: "string", default: "" }, profile: { type: "string" }, smaps: { type: "boolean", default: false } } }, USAGE);
if (!/^\d+$/.test(values.services)) exitWithUsage(`--services takes a count of services, not ${values.services}`, USAGE);
if (!/^\d+$/.test(values.after) || Number(values.after) > 200) exitWithUsage(`--after takes a count of other sidecars (at most 200), not ${values.after}`, USAGE);
if (!/^\d+$/.test(values.hold)) exitWithUsage(`--hold takes milliseconds, not ${values.hold}`, USAGE);
if (values.via !== "push" && values.via !== "file" && values.via !== "file-mtls") exitWithUsage(`--via push, file or file-mtls, not ${values.via}`, USAGE);
const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const workDir = mkdtempSync(join(tmpdir(), "amime-pushed-start-"));
// A copy of the executable, as bench/memory.ts runs the sidecar: its pages are its own.
const node = join(workDir, "node");
copyFileSync(realpathSync(join(root, "node_modules", ".bin", "node")), node);
chmodSync(node, 0o755);
const statusMb = (pid: number, field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const round = (x: number): number => Math.round(x * 100) / 100;

const mesh = await startPushedMesh(root, workDir, await freePort(), await freePort(), Number(values.services));
try {
  for (let i = 1; i <= Number(values.after); i++) mesh.registerPeer(i);
  if (Number(values.after) > 0) await new Promise((r) => setTimeout(r, 1000));
  const entry = (await sidecarLaunch(root)).args.at(-1)!;
  let source = mesh.args;
  if (values.via !== "push") {
    mesh.register();
    writeFileSync(join(workDir, "proxy.json"), JSON.stringify(mesh.config()));
    source = ["--config", join(workDir, "proxy.json")];
  }
  if (values.via === "file-mtls") source = [...source, ...(await workloadCertificateFiles(mesh.args, mesh.env))];
  const session = profileDir === undefined ? undefined : new Session();
  const post = (method: string, params?: object): Promise<unknown> => new Promise((ok, fail) => session!.post(method, params, (e, r) => (e ? fail(e) : ok(r))));
  if (session !== undefined) {
    session.connect();
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 200 });
    await post("Profiler.start");
  }
  const flags = [...SIDECAR_NODE_FLAGS, ...values["add-args"].split(/\s+/).filter((a) => a !== ""), ...(profileDir !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-interval=200"] : [])];
  if (values.via === "push") mesh.register();
  const { child, readyMs } = await startProxyUntilReady("0", node, [...flags, entry, "proxy", ...source, "--admin-port", "0"], { cwd: workDir, env: sidecarEnv(mesh.env) });
  try {
    const pid = child.pid!;
    const atReady = { cpuMs: cpuMicros(pid) / 1000, rss: statusMb(pid, "VmRSS"), hwm: peakRssMb(pid) };
    if (session !== undefined) {
      const { profile } = (await post("Profiler.stop")) as { profile: object };
      writeFileSync(join(profileDir!, "control-plane.cpuprofile"), JSON.stringify(profile));
      session.disconnect();
    }
    await new Promise((r) => setTimeout(r, Number(values.hold)));
    if (values.smaps) process.stderr.write(bigMappings(pid));
    process.stdout.write(`${JSON.stringify({ via: values.via, addArgs: values["add-args"], services: Number(values.services), after: Number(values.after), readyMs: Math.round(readyMs), cpuAtReadyMs: Math.round(atReady.cpuMs), rssAtReadyMb: round(atReady.rss), hwmAtReadyMb: round(atReady.hwm), holdMs: Number(values.hold), rssAfterMb: round(statusMb(pid, "VmRSS")), hwmAfterMb: round(peakRssMb(pid)) })}\n`);
  } finally {
    await stopProcess(child);
  }
} finally {
  await mesh.close();
  rmSync(workDir, { recursive: true, force: true });
}

/** A certificate for the node from the mesh CA (the sidecar's own client, its token), written out: the `--cert/--key/--root-cert` arguments. */
async function workloadCertificateFiles(xdsArgs: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const url = xdsArgs[xdsArgs.indexOf("--xds") + 1]!;
  const rootFile = xdsArgs[xdsArgs.indexOf("--root-cert") + 1]!;
  let issued!: (c: ActiveCertificate) => void;
  const first = new Promise<ActiveCertificate>((resolve) => (issued = resolve));
  const client = new WorkloadCertificate({ url, ca: readFileSync(rootFile, "utf8"), token: env.AMIME_PROXY_TOKEN!, onIssued: (c) => issued(c) }).start();
  const cert = await first;
  // After onIssued has returned: the client has scheduled its rotation by then, which close() cancels.
  client.close();
  const files = { cert: join(workDir, "cert-chain.pem"), key: join(workDir, "key.pem"), root: join(workDir, "trust-bundle.pem") };
  writeFileSync(files.cert, cert.certChain.join(""));
  writeFileSync(files.key, cert.keyPem);
  writeFileSync(files.root, cert.trustBundle.join(""));
  return ["--cert", files.cert, "--key", files.key, "--root-cert", files.root];
}

/** The process's mappings with 128 kB or more resident (the node executable's and shared libraries' left out). */
function bigMappings(pid: number): string {
  const rows: string[] = [];
  let mapping = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) mapping = line;
    const m = /^Rss:\s+(\d+) kB/.exec(line);
    if (m && Number(m[1]) >= 128 && !/\/node$|\.so/.test(mapping)) rows.push(`${(Number(m[1]) / 1024).toFixed(2).padStart(7)} MB  ${mapping.slice(0, 100)}`);
  }
  return `${rows.join("\n")}\n`;
}
