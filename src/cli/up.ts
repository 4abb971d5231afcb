// `amime up -f DIR`: run a local mesh — the control plane in-process, every Workload replica with
// its sidecar, the ingress gateway — until SIGINT/SIGTERM. See docs/local-mesh.md.
import { stat } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { NOT_APPLIED_CODES } from "../config/analyzer-codes.ts";
import { formatDiagnostic } from "../model/diagnostic.ts";
import { ConfigRefusedError } from "../control-plane/server.ts";
import type { EtcdTlsFiles } from "../control-plane/store/etcd/etcd-tls.ts";
import { DashboardForwarder } from "../dashboard/forwarder/forwarder.ts";
import { ConfigInvalid, DEFAULT_PORT_BASE, LocalMesh } from "../runtime/local/local-mesh.ts";
import type { InstanceSupervisor } from "../runtime/local/instance.ts";
import { NetnsMesh, NetnsUnavailable } from "../runtime/netns/netns-mesh.ts";
import { statePath } from "../runtime/local/state-file.ts";
import type { Command } from "./command.ts";
import { readFlags, runParsed, UsageError } from "./lib/args.ts";
import { meshConfigFlag } from "./lib/mesh-config-flag.ts";
import { checkStoreFlag } from "./lib/store-flag.ts";

export const UP_HELP = `Usage: amime up -f DIR|FILE [-f …] [--runtime local|netns [--nodes N]] [--mesh-config FILE] [--secret-dir DIR] [--port-base N] [--control-plane-port N] [--zipkin URL | --otlp URL]
       amime up -f DIR --store etcd://HOST:PORT[,…][/PREFIX] [--control-planes N] [options]

Run a local mesh from a directory of manifests (Services, Workloads, Istio config): start the
control plane, every Workload replica as a local process with its own sidecar, and an ingress
gateway for the Gateways that select istio: ingressgateway. Edits to the files apply live.
Runs until Ctrl-C (SIGINT) or SIGTERM, then stops every process and exits 0.

Ports are handed out from --port-base upwards, skipping busy ones: the ingress gateway first
(Gateway port 8080 → the first free port), then the control plane, then per instance its app
port(s), sidecar inbound port(s), sidecar outbound (HTTP proxy) port and admin port; last, per
sidecar, a pool of ports for its outbound TCP listeners (one per TCP/TLS service port).
Each app gets HOST=127.0.0.1 and PORT (where to listen), HTTP_PROXY (its sidecar) and, for the
Services of its namespace, <SVC>_SERVICE_HOST/_SERVICE_PORT as Kubernetes sets them (a TCP
service's point at the sidecar's local listener for it; see docs/local-mesh.md).
The state file .amime/up.json (in the current directory) tells \`amime exec\`, \`apply\`, \`get\` and
\`proxy-status\` where the mesh is; app and proxy logs go to .amime/logs/.

With --runtime netns (Linux, root): every instance runs in its own network namespace ("pod") with
its own IP on a bridge, its traffic captured by iptables into its sidecar (Istio's 15001/15006),
service names resolved in the pod; apps get no proxy variables and listen on their declared ports
(HOST=0.0.0.0). The control plane listens on the host's end of the mesh network; \`amime exec\`
runs commands inside the pod; Ctrl-C removes every namespace, link and rule, and \`amime down\`
does so after a crash (see docs/netns.md).

Options:
  -f, --filename PATH        config file or directory (recursive); repeatable; required
      --runtime local|netns  local processes on 127.0.0.1 (default), or one network namespace per
                             instance with transparent capture (root; docs/netns.md)
      --nodes N              netns: spread the pods over N node namespaces ("machines", each with
                             its own bridge and subnet, joined by routes; default 1)
      --mesh-config FILE     Istio MeshConfig YAML (the \`mesh\` key of the istio ConfigMap, or that
                             ConfigMap): extensionProviders, defaultProviders, defaultConfig,
                             accessLogFile… (docs/config.md "MeshConfig"); read once at start
      --secret-dir DIR       Kubernetes Secret YAML files for tls.credentialName (Gateway servers,
                             DestinationRule TLS origination):
                             every proxy reads and watches it (amime proxy --secret-dir;
                             docs/security.md "Gateway TLS")
      --port-base N          first port to hand out (default ${DEFAULT_PORT_BASE})
      --control-plane-port N the control plane's port (default: next free from --port-base)
      --dashboard-port N     the dashboard's loopback port: plain http on 127.0.0.1 forwarded to
                             the control plane over TLS verified against the mesh root, so a
                             browser needs no certificate import (default: a free port;
                             docs/dashboard.md)
      --store URL            keep config in etcd (etcd://HOST:PORT[,…][/PREFIX]): the -f files
                             are applied there at start, later applies go there too
                             (docs/control-plane.md "Config in etcd")
      --store-cacert FILE, --store-cert FILE, --store-key FILE
                             with --store etcds://… (TLS): etcd's CA (default: the system's
                             roots), and a client certificate and key for etcd run with
                             --client-cert-auth (as amime control-plane takes them)
      --store-key-file FILE  with --store: keep the CA root in etcd encrypted with this key
                             (at least 32 random bytes), as amime control-plane does; needed for
                             \`amime ca rotate-root\` with --control-planes N (docs/security.md)
      --control-planes N     run N control-plane replicas sharing the --store (default 1); each
                             sidecar knows all of them and fails over; the first one's URL is
                             what the CLI talks to
      --zipkin URL           send spans to this Zipkin v2 endpoint (…/api/v2/spans) instead of
                             the control plane's embedded collector (a MeshConfig's
                             defaultProviders.tracing wins over both)
      --otlp URL             send spans as OTLP/HTTP JSON to this endpoint (…/v1/traces)
Metrics: every sidecar serves Prometheus text at http://127.0.0.1:<ADMIN>/stats/prometheus; the
control plane scrapes them (amime top), and .amime/prometheus-targets.json lists them for an
external Prometheus (file_sd_configs) while the mesh runs (removed on exit).
  -h, --help                 show this help

Exit status: 0 after Ctrl-C/SIGTERM, 1 when the config is invalid or the mesh cannot start,
2 on usage errors.
`;

interface UpArgs {
  files: string[];
  portBase: number;
  controlPlanePort?: number;
  dashboardPort: number;
  tracing?: { format: "zipkin" | "otlp"; endpoint: string };
  meshConfig?: string;
  secretDir?: string;
  store?: string;
  storeTls: EtcdTlsFiles;
  storeKeyFile?: string;
  controlPlanes: number;
  runtime: "local" | "netns";
  nodes?: number;
  help: boolean;
}

function parseUpArgs(argv: readonly string[]): UpArgs {
  const out: UpArgs = { files: [], portBase: DEFAULT_PORT_BASE, dashboardPort: 0, runtime: "local", controlPlanes: 1, help: false, storeTls: {} };
  out.help = readFlags(argv, {
    "-f, --filename": (f) => { out.files.push(f.required("a path")); },
    "--mesh-config": (f) => { out.meshConfig = f.required("a MeshConfig file"); },
    "--secret-dir": (f) => { out.secretDir = f.required("a directory"); },
    "--nodes": (f) => { out.nodes = f.integer(1, 100, "a number of nodes (1-100)"); },
    "--runtime": (f) => {
      const v = f.required("local or netns");
      if (v !== "local" && v !== "netns") throw new UsageError(`--runtime must be local or netns, not "${v}"`);
      out.runtime = v;
    },
    "--port-base": (f) => { out.portBase = f.integer(1, 65535, "a port number (1-65535)"); },
    "--control-plane-port": (f) => { out.controlPlanePort = f.integer(0, 65535, "a port number (0-65535)"); },
    "--dashboard-port": (f) => { out.dashboardPort = f.integer(0, 65535, "a port number (0-65535)"); },
    "--store": (f) => { out.store = f.required("a store URL (etcd://HOST:PORT[,…])"); },
    "--store-cacert, --store-cert, --store-key": (f) => { out.storeTls[f.flag.slice("--store-".length) as keyof EtcdTlsFiles] = resolve(f.required("a PEM file")); },
    "--store-key-file": (f) => { out.storeKeyFile = resolve(f.required("a key file")); },
    "--control-planes": (f) => { out.controlPlanes = f.integer(1, 9, "a number of replicas (1-9)"); },
    "--zipkin, --otlp": (f) => {
      const v = f.value();
      if (!v || !/^https?:\/\/[^/]+/.test(v)) throw new UsageError(`${f.flag} needs an http(s) URL`);
      if (out.tracing) throw new UsageError("pass only one of --zipkin and --otlp");
      out.tracing = { format: f.flag === "--zipkin" ? "zipkin" : "otlp", endpoint: v };
    },
  }, (arg) => {
    throw new UsageError(`unexpected argument "${arg}"; pass directories with -f ${arg}`);
  });
  if (out.controlPlanes > 1 && out.store === undefined) throw new UsageError("--control-planes N needs --store etcd://…: replicas share config only through etcd");
  if (out.store === undefined && out.storeKeyFile !== undefined) throw new UsageError("--store-key-file needs --store etcd://…");
  if (out.store === undefined && Object.keys(out.storeTls).length > 0) throw new UsageError(`--store-${Object.keys(out.storeTls)[0]} needs --store etcds://…`);
  if (out.store !== undefined) {
    checkStoreFlag(out.store, out.storeTls);
    if (out.runtime === "netns") throw new UsageError("--store is not supported with --runtime netns yet");
  }
  return out;
}

/** How long the login link `amime up` prints stays good (it is single use). */
const UP_LOGIN_TTL_MS = 15 * 60_000;

const write = (line: string): void => void process.stdout.write(`${line}\n`);

export function statusTable(instances: readonly InstanceSupervisor[]): string[] {
  const pods = instances.some((i) => i.address !== "127.0.0.1");
  const rows = [["NAME", "READY", "STATUS", ...(pods ? ["IP"] : []), "APP", "INBOUND", "OUTBOUND", "ADMIN", "RESTARTS"]];
  for (const i of instances) {
    const first = i.plan.spec.ports[0];
    const app = first ? String(i.ports.app.get(first.containerPort)) : "-";
    const inbound = i.plan.spec.ports.map((p) => i.ports.inbound.get(p.containerPort)).join(",") || "-";
    const status = i.neverReady && !i.ready ? `${i.phase} (probe budget exceeded)` : i.phase;
    rows.push([`${i.plan.namespace}/${i.plan.name}`, i.ready ? "1/1" : "0/1", status, ...(pods ? [i.address] : []), app, inbound, String(i.ports.outbound), String(i.ports.admin), String(i.restarts)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd());
}

export const upCommand: Command = {
  name: "up",
  run: runParsed("up", UP_HELP, parseUpArgs, async (args) => {
    if (args.files.length === 0) throw new UsageError("-f DIR is required");
    if (args.nodes !== undefined && args.runtime !== "netns") throw new UsageError("--nodes needs --runtime netns");
    write(`amime up: loading ${args.files.join(", ")}`);
    const meshConfig = await meshConfigFlag("up", args.meshConfig, "nothing was started");
    if (meshConfig === null) return 1;
    // Every proxy process inherits the environment: `amime proxy` reads $AMIME_SECRET_DIR.
    if (args.secretDir !== undefined) {
      const dir = resolve(args.secretDir);
      if (!(await stat(dir).then((st) => st.isDirectory(), () => false))) {
        process.stderr.write(`amime up: --secret-dir ${args.secretDir}: not a directory; nothing was started\n`);
        return 1;
      }
      process.env.AMIME_SECRET_DIR = dir;
    }
    let mesh: LocalMesh | NetnsMesh;
    try {
      const opts = {
        paths: args.files,
        ...(meshConfig ? { meshConfig } : {}),
        portBase: args.portBase,
        ...(args.tracing ? { tracing: args.tracing } : {}),
        ...(args.controlPlanePort !== undefined ? { controlPlanePort: args.controlPlanePort } : {}),
        log: (l: string) => write(`amime up: ${l}`),
      };
      mesh = args.runtime === "netns" ? await NetnsMesh.start({ ...opts, ...(args.nodes !== undefined ? { nodes: args.nodes } : {}) }) : await LocalMesh.start({ ...opts, ...(args.store !== undefined ? { store: args.store, storeTls: args.storeTls, controlPlanes: args.controlPlanes, ...(args.storeKeyFile !== undefined ? { storeKeyFile: args.storeKeyFile } : {}) } : {}) });
    } catch (e) {
      if (e instanceof NetnsUnavailable) {
        process.stderr.write(`amime up: ${e.message}; nothing was started\n`);
        return 1;
      }
      if (e instanceof ConfigInvalid || e instanceof ConfigRefusedError) {
        for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
        process.stderr.write("amime up: the config has errors; nothing was started\n");
        return 1;
      }
      process.stderr.write(`amime up: cannot start: ${(e as Error).message}\n`);
      return 1;
    }

    const notApplied = mesh.controlPlane.startupDiagnostics.filter((d) => NOT_APPLIED_CODES.has(d.code));
    for (const d of notApplied) process.stderr.write(`${formatDiagnostic(d)}\n`);
    if (notApplied.length > 0) process.stderr.write(`amime up: ${notApplied.length} resource setting(s) above are accepted but NOT applied or enforced (docs/analyze.md)\n`);

    // The browser's door to the dashboard (plain http on loopback, TLS to the control plane).
    let dashboard: DashboardForwarder;
    try {
      const controlPlane = mesh.controlPlane;
      dashboard = await DashboardForwarder.start({ target: mesh.controlPlane.url, ca: () => controlPlane.trustBundle, port: args.dashboardPort });
    } catch (e) {
      process.stderr.write(`amime up: cannot listen on 127.0.0.1:${args.dashboardPort} for the dashboard: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; stopping\n`);
      await mesh.stop(5000);
      return 1;
    }

    let signals = 0;
    const stopped = new Promise<void>((resolve) => {
      const onSignal = (sig: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          write(`amime up: ${sig} again: killing everything now`);
          void Promise.all([mesh.stop(0), dashboard.close()]).then(() => resolve());
          return;
        }
        write(`amime up: ${sig}: stopping (Ctrl-C again to kill at once)`);
        void Promise.all([mesh.stop(5000), dashboard.close()]).then(() => resolve());
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });

    const budget = Math.min(60_000, Math.max(10_000, ...mesh.instances.map((i) => budgetOf(i))));
    write(`amime up: waiting for ${mesh.instances.length} instance(s) to be ready (up to ${budget / 1000} s)`);
    const notReady = await Promise.race([mesh.waitReady(budget), stopped.then(() => null)]);
    if (notReady === null) {
      write("amime up: stopped");
      return 0;
    }
    const ready = mesh.instances.length - notReady.length;
    write("");
    if (mesh.ingress) write(`Ingress:        ${mesh.ingress}${mesh.ingressPath}${mesh.gateway?.ready ? "" : "   (gateway not ready yet)"}`);
    else write("Ingress:        none (no Gateway selects istio: ingressgateway)");
    // A login link for the first browser; later ones come from `amime dashboard` (60 s codes).
    const login = mesh.controlPlane.sessions.mintLoginCode({ kind: "admin", name: "amime-up" }, UP_LOGIN_TTL_MS);
    write(`Dashboard:      ${dashboard.url}/dashboard/login?code=${login.code}   (single use, ${UP_LOGIN_TTL_MS / 60_000} min; then: amime dashboard)`);
    write(`Control plane:  ${mesh.controlPlane.url}/api/v1/status`);
    if (mesh instanceof NetnsMesh) write(`Network:        ${mesh.network.nodeCount} node(s) on 10.${mesh.network.subnet.octet}.0.0/24 with this host, node k's pods on 10.${mesh.network.subnet.octet}.(k+1).0/24; run id ${mesh.network.resources.runId} (amime down removes it after a crash)`);
    const meshTracing = meshConfig?.defaultProviders?.tracing?.[0];
    write(`Traces:         ${meshTracing !== undefined ? `MeshConfig provider ${meshTracing}` : args.tracing ? `${args.tracing.format} → ${args.tracing.endpoint}` : `${mesh.controlPlane.url}/api/v2/traces (Zipkin v2 API)`}`);
    write(`Metrics:        amime top · ${mesh.controlPlane.url}/api/v1/telemetry/graph · Prometheus targets in .amime/prometheus-targets.json`);
    write(`State file:     ${relative(process.cwd(), statePath(mesh.dir)) || statePath(mesh.dir)}   logs: .amime/logs/`);
    write("");
    for (const l of statusTable(mesh.instances)) write(l);
    write("");
    for (const i of notReady) {
      write(`WARNING ${i.plan.name} is not ready (${i.lastExit ?? "readiness probe not passing"}); it gets no traffic. Its log: .amime/logs/${i.plan.name}.log`);
    }
    write(`amime up: ${ready}/${mesh.instances.length} instances ready. Press Ctrl-C to stop.`);
    for (const i of mesh.instances) i.announce = true;
    await stopped;
    write("amime up: stopped");
    // Nothing should hold the event loop now; if something does, it must not keep a stopped mesh alive.
    setTimeout(() => process.exit(0), 1000).unref();
    return 0;
  }),
};

function budgetOf(i: InstanceSupervisor): number {
  const p = i.plan.spec.readinessProbe;
  return p ? Math.max(10_000, (p.initialDelaySeconds + p.periodSeconds * p.failureThreshold) * 1000) : 30_000;
}
