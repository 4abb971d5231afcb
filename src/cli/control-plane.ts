// `amime control-plane -f DIR [-f …] [--port N]`: run the control plane alone. Loads and validates
// the config (refuses to start on errors, listing them), prints one JSON line with its URL once it
// listens, watches the files, logs refused changes and NACKs on stderr; SIGINT/SIGTERM → exit 0.
import { resolve } from "node:path";
import { NOT_APPLIED_CODES } from "../config/analyzer-codes.ts";
import { formatDiagnostic } from "../model/diagnostic.ts";
import { meshSettingsOf } from "../config/mesh-config/settings.ts";
import { ConfigRefusedError, ControlPlane, DEFAULT_CONTROL_PLANE_PORT } from "../control-plane/server.ts";
import type { EtcdTlsFiles } from "../control-plane/store/etcd/etcd-tls.ts";
import { DEFAULT_SIDECAR_XDS, injectAdmission, injectorSettings, startWebhooks, type WebhookServer } from "../control-plane/webhook/index.ts";
import { createDashboardHandler } from "../dashboard/server/handler.ts";
import { DEFAULT_LEADER_TIMING, timingProblem, type LeaderTiming } from "../control-plane/leader/leader-term.ts";
import { NANOS_PER_MS, parseDurationNanos } from "../config/checks/duration.ts";
import type { Command } from "./command.ts";
import { readFlags, runParsed, UsageError } from "./lib/args.ts";
import { meshConfigFlag } from "./lib/mesh-config-flag.ts";
import { checkStoreFlag } from "./lib/store-flag.ts";
import { untilSignal } from "./lib/signals.ts";

export const CONTROL_PLANE_HELP = `Usage: amime control-plane -f PATH [-f PATH …] [--mesh-config FILE] [--port N] [--host ADDR] [--state-dir DIR] [--cacerts DIR]
       amime control-plane --store etcd://HOST:PORT[,HOST:PORT…][/PREFIX] [options]
       amime control-plane --platform kubernetes [--kubeconfig FILE] [options]

Run the control plane: load Istio config from files and directories (watched: edits are
validated and pushed live; an edit with errors is refused and the last good config stays),
accept instance registrations, apply/delete and status requests, and push each proxy its
config (amime proxy --xds URL --node ID). Protocol in docs/control-plane.md.
Every API call and the push stream need a credential. On first start the control plane writes
an admin token to DIR/admin-token (mode 0600; DIR is --state-dir, default ./.amime), which the
CLI finds there from this directory or below (or pass --token-file / set $AMIME_TOKEN). Requests
naming a foreign Host or sent by a browser from another site are refused. The API and the push
stream are served over TLS only, with a certificate from the mesh CA naming the listen address,
loopback and every --allowed-host; the root it chains to is written to DIR/root-cert.pem, where
the CLI and sidecars (--root-cert) find it. Plaintext connections are refused.
Once listening, prints one JSON line on stdout:
  {"ready":true,"url":"https://127.0.0.1:15010","port":15010,"version":"v1","tokenFile":"/abs/.amime/admin-token","rootCertFile":"/abs/.amime/root-cert.pem"}
(with --webhook-port, also "webhookPort":N).

Options:
  -f, --filename PATH   config file or directory (repeatable; may be omitted to start empty)
      --mesh-config FILE  Istio MeshConfig YAML (the \`mesh\` key of the istio ConfigMap, or that
                        ConfigMap): extension providers, default providers, defaultConfig…
                        (docs/config.md "MeshConfig"); read once at start
      --port N          listen port (default ${DEFAULT_CONTROL_PLANE_PORT}; 0 = any free port)
      --host ADDR       listen address (default 127.0.0.1)
      --state-dir DIR   where the token key, the admin token, the self-signed CA root
                        (ca/) and the applied config (config-store.json: what came through
                        apply/delete, kept across restarts and kill -9) live (default ./.amime)
      --store URL       keep applied config in etcd instead of config-store.json, shared by
                        every replica started with the same URL: one key per resource under
                        PREFIX (default /amime/), writes checked against the revision they
                        were judged on (a concurrent change → Conflict), every replica
                        watches and pushes what any replica applied. Not with -f.
      --store-key-file FILE  with --store: keep the self-signed CA root in etcd, encrypted
                        (AES-256-GCM) with this file (at least 32 random bytes), shared by
                        every replica given the same file; without it (or --cacerts) each
                        replica has its own root (a warning says so)
      --store-cacert FILE  with --store etcds://… (TLS): the CA of etcd's serving
                        certificates (default: the system's roots)
      --store-cert FILE, --store-key FILE  with etcds://…: this replica's client certificate
                        and key, for etcd run with --client-cert-auth (etcdctl's --cert/--key;
                        not the --store-key-file above, which encrypts the CA root)
      --replica-name NAME  with --store: this replica's name in the leader election and in
                        status (default <host name>:<port>)
      --leader-elect-lease-duration D  with --store: TTL of the etcd lease behind the leader
                        key (default 15s; whole seconds)
      --leader-elect-renew-deadline D  with --store: a leader that had no keepalive answered
                        for this long steps down, before its lease can end (default 10s)
      --leader-elect-retry-period D  with --store: keepalives and campaigns this often (default 2s)
      --store-compaction-interval D  with --store: the leader compacts etcd's history this
                        often, to the revision of one interval before (default 5m; 0 = never)
      --registration-cleanup-grace-period D  with --store: the leader removes the registration
                        of an instance whose proxy connected once and then had no stream at any
                        replica for this long (default 10s, Istio's PILOT_WORKLOAD_ENTRY_GRACE_PERIOD;
                        0 = never)
      --cacerts DIR     sign workload certificates as this intermediate: Istio's plug-in CA
                        files ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem
      --allowed-host NAME  a host name clients may reach this control plane by (repeatable;
                        the listen address and loopback are always allowed); also a name in
                        the serving certificate
      --no-watch        do not watch the files
      --platform kubernetes  read Istio's custom resources and Services (config: each object
                        validated alone, an invalid one logged and its last good version kept)
                        and Pods (workload instances: labels, service account, IP, readiness)
                        from a Kubernetes API server, listed then watched; accepts sidecars'
                        projected service-account tokens (TokenReview), writes ConfigMap
                        istio-ca-root-cert into every namespace and Secret amime-admin-token
                        into $POD_NAMESPACE (default istio-system); see docs/kubernetes.md
      --kubeconfig FILE with --platform kubernetes: the cluster and credentials (default as
                        kubectl: $KUBECONFIG, ~/.kube/config, else the pod's service account)
      --webhook-port N  also serve the Kubernetes admission webhooks on N (Istio's 15017;
                        0 = any free port): POST /validate judges Istio config as \`amime
                        validate\` does, over HTTPS with a certificate from the mesh CA naming
                        the listen address, loopback and every --allowed-host (the webhook
                        Service's DNS name); see docs/kubernetes.md
      --sidecar-image IMAGE  with --webhook-port: also serve POST /inject, the sidecar
                        injector, adding istio-init (\`amime capture\`) and istio-proxy
                        (\`amime proxy --xds\`) from this image to new pods
      --sidecar-xds URL where injected sidecars reach this control plane (default
                        https://amime.istio-system.svc:15012, the Service \`amime install\` writes)
  -h, --help            show this help

Exit status: 0 after a signal, 1 on invalid config or a port that cannot be bound, 2 on usage errors.
`;

interface Args {
  paths: string[];
  port: number;
  host: string;
  watch: boolean;
  meshConfig?: string;
  stateDir: string;
  cacerts?: string;
  store?: string;
  storeKeyFile?: string;
  storeTls: EtcdTlsFiles;
  replicaName?: string;
  leaderTiming: LeaderTiming;
  compactionIntervalMs?: number;
  registrationCleanupGraceMs?: number;
  allowedHosts: string[];
  webhookPort?: number;
  sidecarImage?: string;
  sidecarXds: string;
  platform?: "kubernetes";
  kubeconfig?: string;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const out: Args = { paths: [], port: DEFAULT_CONTROL_PLANE_PORT, host: "127.0.0.1", watch: true, stateDir: ".amime", allowedHosts: [], sidecarXds: DEFAULT_SIDECAR_XDS, help: false, leaderTiming: { ...DEFAULT_LEADER_TIMING }, storeTls: {} };
  const storeOnly: string[] = [];
  out.help = readFlags(argv, {
    "-f, --filename": (f) => { out.paths.push(f.required("a path")); },
    "--mesh-config": (f) => { out.meshConfig = f.required("a MeshConfig file"); },
    "--port": (f) => { out.port = f.integer(0, 65535, "a port number (0 = any)"); },
    "--host": (f) => { out.host = f.required("an address"); },
    "--state-dir": (f) => { out.stateDir = f.required("a directory"); },
    "--cacerts": (f) => { out.cacerts = f.required("a directory"); },
    "--store": (f) => { out.store = f.required("a store URL (etcd://HOST:PORT[,…])"); },
    "--store-key-file": (f) => { out.storeKeyFile = f.required("a key file"); },
    "--store-cacert, --store-cert, --store-key": (f) => {
      out.storeTls[f.flag.slice("--store-".length) as keyof EtcdTlsFiles] = f.required("a PEM file");
      storeOnly.push(f.flag);
    },
    "--replica-name": (f) => {
      out.replicaName = f.required("a name");
      storeOnly.push(f.flag);
    },
    "--leader-elect-lease-duration, --leader-elect-renew-deadline, --leader-elect-retry-period": (f) => {
      out.leaderTiming[LEADER_FLAGS[f.flag]!] = durationMs(f.flag, f.required("a duration (e.g. 2s)"));
      storeOnly.push(f.flag);
    },
    "--store-compaction-interval": (f) => {
      out.compactionIntervalMs = durationMs(f.flag, f.required("a duration (5m)"), true);
      storeOnly.push(f.flag);
    },
    "--registration-cleanup-grace-period": (f) => {
      out.registrationCleanupGraceMs = durationMs(f.flag, f.required("a duration (10s)"), true);
      storeOnly.push(f.flag);
    },
    "--allowed-host": (f) => { out.allowedHosts.push(f.required("a host name")); },
    "--no-watch": () => { out.watch = false; },
    "--webhook-port": (f) => { out.webhookPort = f.integer(0, 65535, "a port number (0 = any)"); },
    "--sidecar-image": (f) => { out.sidecarImage = f.required("an image"); },
    "--sidecar-xds": (f) => {
      out.sidecarXds = f.required("a URL");
      if (!/^https:\/\/[^/]+$/.test(out.sidecarXds)) throw new UsageError(`--sidecar-xds: "${out.sidecarXds}" is not https://HOST:PORT`);
    },
    "--platform": (f) => {
      const p = f.required("a platform (kubernetes)");
      if (p !== "kubernetes") throw new UsageError(`--platform: "${p}" is not a platform Amime runs on (kubernetes)`);
      out.platform = p;
    },
    "--kubeconfig": (f) => { out.kubeconfig = f.required("a kubeconfig file"); },
  });
  if (out.kubeconfig !== undefined && out.platform === undefined) throw new UsageError("--kubeconfig needs --platform kubernetes");
  if (out.platform !== undefined && out.store !== undefined) throw new UsageError("--platform kubernetes cannot be combined with --store: config comes from the API server");
  if (out.sidecarImage !== undefined && out.webhookPort === undefined) throw new UsageError("--sidecar-image needs --webhook-port (the injector is an admission webhook)");
  if (out.storeKeyFile !== undefined && out.store === undefined) throw new UsageError("--store-key-file needs --store etcd://…");
  if (storeOnly.length > 0 && out.store === undefined) throw new UsageError(`${storeOnly[0]} needs --store etcd://…`);
  const timing = timingProblem(out.leaderTiming);
  if (timing !== null) throw new UsageError(`leader election: ${timing}`);
  if (out.store !== undefined && out.paths.length > 0) throw new UsageError("-f cannot be combined with --store: with etcd every replica reads config only from etcd; put files there with `amime apply -f`");
  if (out.store !== undefined) checkStoreFlag(out.store, out.storeTls);
  return out;
}

/** The TLS files as absolute paths, as the other file flags are passed. */
function resolveFiles(files: EtcdTlsFiles): EtcdTlsFiles {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, resolve(v as string)])) as EtcdTlsFiles;
}

/** client-go's flag names (kube-controller-manager's) for the leader election's timing. */
const LEADER_FLAGS: Record<string, keyof LeaderTiming> = {
  "--leader-elect-lease-duration": "leaseTtlMs",
  "--leader-elect-renew-deadline": "renewDeadlineMs",
  "--leader-elect-retry-period": "retryPeriodMs",
};

/** A Go duration flag in milliseconds (`2s`, `500ms`, `5m`). */
function durationMs(flag: string, text: string, zeroOk = false): number {
  const nanos = parseDurationNanos(text);
  if (nanos === null || nanos < 0n || (nanos === 0n && !zeroOk) || nanos % NANOS_PER_MS !== 0n) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a duration such as 500ms, 2s or 5m`);
  return Number(nanos / NANOS_PER_MS);
}

export const controlPlaneCommand: Command = {
  name: "control-plane",
  run: runParsed("control-plane", CONTROL_PLANE_HELP, parseArgs, async (args) => {
    const meshConfig = await meshConfigFlag("control-plane", args.meshConfig, "not starting");
    if (meshConfig === null) return 1;
    let cp: ControlPlane;
    try {
      cp = await ControlPlane.start({
        dashboard: createDashboardHandler,
        ...(meshConfig ? { mesh: meshSettingsOf(meshConfig) } : {}),
        port: args.port,
        host: args.host,
        configPaths: args.paths,
        watch: args.watch,
        stateDir: resolve(args.stateDir),
        ...(args.cacerts !== undefined ? { cacertsDir: resolve(args.cacerts) } : {}),
        ...(args.store !== undefined ? { store: args.store } : {}),
        ...(args.storeKeyFile !== undefined ? { storeKeyFile: resolve(args.storeKeyFile) } : {}),
        ...(args.store !== undefined ? { leaderTiming: args.leaderTiming } : {}),
        ...(args.store !== undefined ? { storeTls: resolveFiles(args.storeTls) } : {}),
        ...(args.replicaName !== undefined ? { replicaName: args.replicaName } : {}),
        ...(args.compactionIntervalMs !== undefined ? { compactionIntervalMs: args.compactionIntervalMs } : {}),
        ...(args.registrationCleanupGraceMs !== undefined ? { registrationCleanupGraceMs: args.registrationCleanupGraceMs } : {}),
        allowedHosts: args.allowedHosts,
        // Its own namespace as istiod learns it ($POD_NAMESPACE, from the Deployment's downward API).
        ...(args.platform === "kubernetes" ? { kubernetes: { ...(args.kubeconfig !== undefined ? { kubeconfig: resolve(args.kubeconfig) } : {}), ...(process.env.POD_NAMESPACE ? { namespace: process.env.POD_NAMESPACE } : {}) } } : {}),
        log: (l) => process.stderr.write(`amime control-plane: ${l}\n`),
      });
    } catch (e) {
      if (e instanceof ConfigRefusedError) {
        for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
        process.stderr.write("amime control-plane: config has errors; not starting\n");
      } else {
        process.stderr.write(`amime control-plane: ${(e as Error).message}\n`);
      }
      return 1;
    }
    for (const d of cp.startupDiagnostics) if (NOT_APPLIED_CODES.has(d.code)) process.stderr.write(`${formatDiagnostic(d)}\n`);
    let webhooks: WebhookServer | null = null;
    if (args.webhookPort !== undefined) {
      try {
        const inject = args.sidecarImage === undefined ? {} : { inject: injectAdmission(injectorSettings(args.sidecarImage, args.sidecarXds, meshConfig)) };
        webhooks = await startWebhooks(cp, { port: args.webhookPort, host: args.host, names: args.allowedHosts, ...inject }, (l) => process.stderr.write(`amime control-plane: ${l}\n`));
      } catch (e) {
        process.stderr.write(`amime control-plane: cannot serve the admission webhooks on port ${args.webhookPort}: ${(e as Error).message}\n`);
        await cp.close();
        return 1;
      }
    }
    // Listen for signals before the ready line: whoever reads it may send SIGTERM at once.
    const stopped = untilSignal();
    process.stdout.write(JSON.stringify({ ready: true, url: cp.url, port: cp.port, version: cp.version, tokenFile: cp.adminTokenFile, rootCertFile: cp.rootCertFile, ...(webhooks ? { webhookPort: webhooks.port } : {}) }) + "\n");
    await stopped;
    await webhooks?.close();
    await cp.close();
    return 0;
  }),
};
