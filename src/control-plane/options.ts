// What a control plane is started with (ControlPlaneOptions), its defaults, and how a config it
// is given at start is judged (analyze options, ConfigRefusedError). src/control-plane/server.ts.
import type { AnalyzeOptions } from "../config/analyze/index.ts";
import { formatDiagnostic, type Diagnostic } from "../model/diagnostic.ts";
import type { Clock } from "../core/clock.ts";
import type { Random } from "../core/random.ts";
import type { ProxyConfig } from "../model/proxy-config.ts";
import type { MeshSettings } from "../model/snapshot.ts";
import type { DashboardFactory } from "./dashboard-backend.ts";
import type { LeaderTiming } from "./leader/leader-term.ts";
import type { EtcdTlsFiles } from "./store/etcd/etcd-tls.ts";
import type { MeshTelemetry } from "./translate/telemetry.ts";

/** How long a stopping control plane waits for its proxies to move after telling them to (drain). */
export const DRAIN_GRACE_MS = 2_000;

/** Istio's xDS port number (plaintext there; TLS-only here); `amime control-plane` and `amime up` listen here by default. */
export const DEFAULT_CONTROL_PLANE_PORT = 15010;

/** The mesh's root certificate(s), written beside the admin credential for the CLI and sidecars to verify the control plane with. */
export const ROOT_CERT_FILE = "root-cert.pem";

export interface ControlPlaneOptions {
  /** Default 15010; 0 = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Config files and directories, loaded at start and watched for changes. */
  configPaths?: string[];
  clock?: Clock;
  random?: Random;
  /** Quiet period before a push and before a file reload (default 50 ms). */
  debounceMs?: number;
  /** Watch configPaths for changes (default true). */
  watch?: boolean;
  mesh?: Partial<MeshSettings>;
  /** Log lines (refused changes, NACKs); default: none. */
  log?: (line: string) => void;
  /**
   * Where the token key and the admin token (`admin-token`, mode 0600) live, created on first
   * start and reused after, and the durable store of applied config (`config-store.json`).
   * Without it, credentials and applied config exist in memory only (`cp.adminToken`).
   */
  stateDir?: string;
  /**
   * Istio's plug-in CA files (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem): the mesh CA
   * signs as this intermediate. Without it, a self-signed root is kept in `<stateDir>/ca` (in
   * memory without a state dir).
   */
  cacertsDir?: string;
  /**
   * `etcd://HOST:PORT[,…][/PREFIX]`: keep applied config in etcd, shared with every replica started
   * on the same URL (docs/control-plane.md "Config in etcd"). Not combinable with configPaths.
   */
  store?: string;
  /**
   * With `store`: a file of at least 32 random bytes; the self-signed CA root is kept in etcd,
   * encrypted with it, and shared by every replica given the same file (needs a state dir).
   */
  storeKeyFile?: string;
  /** With an `etcds://` store: the CA, client certificate and key files to reach etcd with (`--store-cacert`, `--store-cert`, `--store-key`). */
  storeTls?: EtcdTlsFiles;
  /** With `store`: this replica's name in the leader election (default `<host name>:<port>`). */
  replicaName?: string;
  /** With `store`: lease TTL, renew deadline and retry period of the leader election (default client-go's 15 s, 10 s, 2 s). */
  leaderTiming?: LeaderTiming;
  /** With `store`: the leader compacts etcd's history this often (default 5 min, as kube-apiserver; 0: never). */
  compactionIntervalMs?: number;
  /**
   * With `store`: the leader removes a registration whose proxy connected once and then had no
   * stream at any replica for this long (default 10 s, Istio's PILOT_WORKLOAD_ENTRY_GRACE_PERIOD; 0: never).
   */
  registrationCleanupGraceMs?: number;
  /** Host names (besides the listen address and loopback) that requests may name in Host. */
  allowedHosts?: readonly string[];
  /**
   * `--platform kubernetes`: read Istio's custom resources and Services (into the store, each
   * object judged alone) and Pods (workload instances) from a Kubernetes API server, found as
   * kubectl finds it (`kubeconfig`, else $KUBECONFIG, ~/.kube/config, in-cluster). See
   * docs/kubernetes.md.
   */
  kubernetes?: {
    kubeconfig?: string;
    /** The control plane's own namespace, where it publishes Secret amime-admin-token (default istio-system; the CLI passes $POD_NAMESPACE). */
    namespace?: string;
  };
  /**
   * With a state dir and no `store` (default on): keep instance registrations in
   * `<stateDir>/registrations.json` and restore them at start, so a restarted control plane pushes
   * the endpoints it knew instead of none until the runtime registers again; a restored entry not
   * registered again within `registrationGraceMs` (default 30 s) is dropped. `amime up` starts every
   * instance anew and turns it off.
   */
  restoreRegistrations?: boolean;
  registrationGraceMs?: number;
  /** Test hook: rewrite a config just before it is pushed (e.g. to make a proxy NACK). */
  beforePush?: (node: string, config: ProxyConfig) => ProxyConfig;
  /**
   * The dashboard served under /dashboard/ (src/dashboard/server/handler.ts: createDashboardHandler,
   * which `amime control-plane` and the runtimes give); absent, those paths are the API's (404).
   */
  dashboard?: DashboardFactory;
}

export const DEFAULT_REGISTRATION_GRACE_MS = 30_000;

/** A root rotation step that does not complete within this stops it (`504 CA_ROTATION_STALLED`). */
export const ROTATION_TIMEOUT_MS = 300_000;

/** What config changes are judged against: the MeshConfig, its root namespace, the runtime's providers. */
export function analyzeOptionsOf(mesh: Partial<MeshSettings> | undefined): AnalyzeOptions {
  const out: AnalyzeOptions = {};
  if (mesh?.config) out.meshConfig = mesh.config;
  if (mesh?.rootNamespace) out.rootNamespace = mesh.rootNamespace;
  if (mesh?.domainSuffix) out.domainSuffix = mesh.domainSuffix;
  const extra = (mesh?.telemetry as MeshTelemetry | undefined)?.extensionProviders;
  if (Array.isArray(extra)) out.extraProviders = extra;
  return out;
}

/** The config given at start has errors (layer: control plane). */
export class ConfigRefusedError extends Error {
  readonly code = "CP_CONFIG_INVALID";
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.level === "error");
    super(`config refused:\n  ${errors.map(formatDiagnostic).join("\n  ")}`);
    this.name = "ConfigRefusedError";
    this.diagnostics = diagnostics;
  }
}
