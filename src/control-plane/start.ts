// The control plane's start sequence (ControlPlane.start in server.ts), in order: the config source
// (etcd, the state dir, the Kubernetes API server, config files) judged before anything is served;
// the credentials and the CA; the endpoint (API, push stream, dashboard); with etcd, the replica's
// role; the file watch. A step that fails stops what the earlier ones started, and the start throws.
import { writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { Diagnostic } from "../model/diagnostic.ts";
import type { Clock } from "../core/clock.ts";
import { systemRandom } from "../core/random.ts";
import { ApiEndpoint } from "./api/api-endpoint.ts";
import { CredentialIssuer } from "./auth/credentials.ts";
import type { DashboardSessions } from "./auth/sessions.ts";
import type { Principal } from "./auth/token.ts";
import { caDirOf, type IdentityIssuer } from "./ca/index.ts";
import type { MeshTrust } from "./ca/mesh-trust.ts";
import type { KubernetesPlatform } from "./kubernetes/platform.ts";
import { ConfigRefusedError, DEFAULT_CONTROL_PLANE_PORT, DEFAULT_REGISTRATION_GRACE_MS, ROOT_CERT_FILE, type ControlPlaneOptions } from "./options.ts";
import type { Pusher } from "./push/pusher.ts";
import type { Registrations } from "./registry/registrations.ts";
import { RegistryFile } from "./registry/registry-file.ts";
import type { TcpPortAssignments } from "./registry/tcp-port-assignments.ts";
import type { EtcdReplica } from "./replica/etcd-replica.ts";
import type { ChangeLog } from "./store/change-log.ts";
import type { ConfigStore } from "./store/config-store.ts";
import { FileSource } from "./store/file-source.ts";
import { FileWatcher } from "./store/file-watcher.ts";
import { StoreFile, StoreFileError } from "./store/store-file.ts";

/** What the start sequence makes and the running control plane holds (each null until made, or when not configured). */
export interface StartedParts {
  /** The admin and proxy credentials. */
  issuer: CredentialIssuer | null;
  files: FileSource | null;
  watcher: FileWatcher | null;
  /** The API, push stream and dashboard listener. */
  endpoint: ApiEndpoint | null;
  /** With --store etcd://…: the shared store, registry, rotations and the leader role. */
  replica: EtcdReplica | null;
  /** With --platform kubernetes: the API server's config and pods. */
  kube: KubernetesPlatform | null;
}

export function noParts(): StartedParts {
  return { issuer: null, files: null, watcher: null, endpoint: null, replica: null, kube: null };
}

/** The control plane as its start sequence sees it. */
export interface StartHost {
  readonly opts: ControlPlaneOptions;
  readonly store: ConfigStore;
  readonly changes: ChangeLog;
  readonly clock: Clock;
  readonly identities: IdentityIssuer;
  readonly sessions: DashboardSessions;
  readonly registrations: Registrations;
  readonly tcpPorts: Pick<TcpPortAssignments, "forget">;
  readonly trust: MeshTrust;
  readonly pusher: Pick<Pusher, "allStates" | "close">;
  /** The config version now. */
  version(): string;
  /** A new version. */
  bump(): void;
  /** The control plane is closing. */
  closing(): boolean;
  /** The warnings of the config loaded at start. */
  setStartupDiagnostics(diagnostics: readonly Diagnostic[]): void;
  /** What answers a request the gate let through (telemetry, dashboard, API), once there are credentials. */
  handler(issuer: CredentialIssuer): (req: IncomingMessage, res: ServerResponse, principal: Principal | null) => void;
  reloadFiles(files: readonly string[]): void;
  close(opts: { drain?: boolean }): Promise<void>;
  log(line: string): void;
}

/** Load and validate the config, listen, watch the files; fills `parts`. Throws ConfigRefusedError on invalid config. */
export async function startControlPlane(h: StartHost, parts: StartedParts): Promise<void> {
  const opts = h.opts;
  const paths = opts.configPaths ?? [];
  let restored = false;
  if (opts.store !== undefined) {
    await orAbandon(h, parts, () => attachEtcd(h, parts, opts.store as string, paths));
  } else if (opts.stateDir !== undefined) {
    const stateDir = opts.stateDir;
    restored = await orAbandon(h, parts, () => Promise.resolve(restoreFrom(h, new StoreFile(stateDir))));
  }
  if (opts.store === undefined && opts.stateDir !== undefined && opts.restoreRegistrations !== false) {
    await h.registrations.restore(new RegistryFile(opts.stateDir), opts.registrationGraceMs ?? DEFAULT_REGISTRATION_GRACE_MS);
  }
  if (paths.length === 0 && restored) {
    adoptStartConfig(h, parts, await h.store.check());
  }
  if (opts.kubernetes !== undefined) {
    const kubeconfig = opts.kubernetes.kubeconfig;
    await orAbandon(h, parts, () => attachKubernetes(h, parts, kubeconfig));
  }
  if (paths.length > 0) {
    parts.files = new FileSource(h.store, paths);
    adoptStartConfig(h, parts, await parts.files.load());
  }
  await orAbandon(h, parts, () => loadIdentities(h, parts));
  const issuer = parts.issuer as CredentialIssuer;
  parts.endpoint = await orAbandon(h, parts, () => ApiEndpoint.start({
    host: opts.host ?? "127.0.0.1",
    port: opts.port ?? DEFAULT_CONTROL_PLANE_PORT,
    allowedHosts: opts.allowedHosts,
    clock: h.clock,
    ca: () => h.identities.ca(),
    roots: () => h.trust.trustBundle,
    issuer,
    sessions: h.sessions,
    reviewToken: parts.kube?.reviewToken,
    handle: h.handler(issuer),
    log: (l) => h.log(l),
  }));
  const replica = parts.replica;
  if (replica !== null) {
    try {
      await replica.markStreams(parts.endpoint.port, () => h.pusher.allStates().filter((s) => s.connected).map((s) => s.node), (l) => h.log(l));
    } catch (e) {
      await h.close({ drain: false });
      throw e;
    }
    await replica.startRole(h.clock, () => h.trust.host(), (l) => h.log(l));
    h.trust.shared = replica.sharedRotation;
  }
  if (paths.length > 0 && opts.watch !== false) {
    parts.watcher = await FileWatcher.start(paths, {
      clock: h.clock,
      debounceMs: opts.debounceMs ?? 50,
      onChange: (files) => h.reloadFiles(files),
      onError: (e) => h.log(`watch: ${e.message}`),
    });
  }
}

/** The config loaded at start, judged: refused (the start stops) or the first version. */
function adoptStartConfig(h: StartHost, parts: StartedParts, judged: { accepted: boolean; diagnostics: Diagnostic[] }): void {
  if (!judged.accepted) {
    abandon(h, parts);
    throw new ConfigRefusedError(judged.diagnostics);
  }
  h.setStartupDiagnostics(judged.diagnostics);
  h.bump();
}

/** `step`, and when it fails, stop what was started so far before throwing. */
async function orAbandon<T>(h: StartHost, parts: StartedParts, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    abandon(h, parts);
    throw e;
  }
}

/** A start that failed: stop what was started so far (the push timers, the etcd client). */
function abandon(h: StartHost, parts: StartedParts): void {
  h.registrations.close();
  parts.kube?.close();
  h.pusher.close();
  void parts.replica?.etcd.close();
}

/**
 * The admin and proxy credentials, the CA (a broken CA bundle stops the start), its ledger and
 * deny list (shared through etcd with --store), the trust bundle in the root file and, on
 * Kubernetes, in every namespace.
 */
async function loadIdentities(h: StartHost, parts: StartedParts): Promise<void> {
  const { opts, identities, trust } = h;
  const issuer = opts.stateDir !== undefined ? await CredentialIssuer.fromStateDir(opts.stateDir, () => h.clock.wallNow()) : CredentialIssuer.ephemeral(() => h.clock.wallNow());
  parts.issuer = issuer;
  // A CA with files (plug-in or kept in the state dir) is loaded or created now, so a broken
  // bundle stops the start; an in-memory one is made on the first certificate request.
  const replica = parts.replica;
  if (replica?.sharesRoot === true) await replica.shareRoot(caDirOf(opts.stateDir as string), (l) => h.log(l));
  if (opts.cacertsDir !== undefined || opts.stateDir !== undefined) await identities.ca();
  const revocations = await identities.revocations();
  if (replica !== null) {
    const registrations = h.registrations;
    await replica.shareIdentities(identities, revocations, { put: (ns, n, r) => void registrations.adopt(ns, n, r), remove: (ns, n) => void registrations.adoptRemoval(ns, n) }, () => {
      trust.denyFrom(revocations);
      h.log(`revocation list changed in etcd (${revocations.entries().length} entries)`);
      h.bump();
    }, (l) => h.log(l));
    registrations.shared = replica.sharedRegistry;
  }
  trust.denyFrom(revocations);
  await identities.ledger();
  trust.trustBundle = (await identities.ca()).roots.join("");
  if (opts.stateDir !== undefined) {
    trust.rootCertFile = join(opts.stateDir, ROOT_CERT_FILE);
    await writeFile(trust.rootCertFile, trust.trustBundle);
  }
  if (parts.kube !== null) {
    await parts.kube.publishRootCert(trust.trustBundle);
    await parts.kube.publishAdminToken(opts.kubernetes?.namespace ?? "istio-system", issuer.adminToken);
  }
}

/** List the API server's config and pods (the start waits for it), then follow their changes. */
async function attachKubernetes(h: StartHost, parts: StartedParts, kubeconfig: string | undefined): Promise<void> {
  // Loaded only here: nothing of the Kubernetes platform costs a file-based control plane.
  const { KubernetesPlatform } = await import("./kubernetes/index.ts");
  const first = await KubernetesPlatform.attach(kubeconfig, { store: h.store, clock: h.clock, log: (l) => h.log(l), changed: () => h.bump(), podGone: (node) => h.tcpPorts.forget(node) }, (k) => (parts.kube = k));
  h.setStartupDiagnostics(first.diagnostics);
}

/** Adopt what etcd holds, save every later change there, and adopt what other replicas write. */
async function attachEtcd(h: StartHost, parts: StartedParts, store: string, paths: readonly string[]): Promise<void> {
  const { opts } = h;
  const { EtcdReplica } = await import("./replica/etcd-replica.ts");
  const attached = await EtcdReplica.attach(opts, store, paths, {
    store: h.store,
    changes: h.changes,
    random: opts.random ?? systemRandom,
    log: (l) => h.log(l),
    closing: () => h.closing(),
    changed: () => {
      h.bump();
      return h.version();
    },
  }, (replica) => {
    parts.replica = replica;
    h.trust.replicated = true;
  });
  if (!attached.accepted) throw new ConfigRefusedError(attached.diagnostics);
  h.setStartupDiagnostics(attached.diagnostics);
  if (opts.cacertsDir === undefined && (opts.storeKeyFile === undefined || opts.stateDir === undefined)) {
    h.log(`warning: the CA root key is not kept in etcd (that needs --store-key-file and a state dir): this replica signs with its own root (${opts.stateDir === undefined ? "in memory" : caDirOf(opts.stateDir)}), so proxies of replicas with other state dirs do not trust each other's certificates; give every replica the same --store-key-file, --cacerts or state dir`);
  }
  h.bump();
}

/** Take back what was applied before a restart, and save every later change there. */
function restoreFrom(h: StartHost, file: StoreFile): boolean {
  const { store, changes } = h;
  const saved = file.load((tmp) => h.log(`config store: discarded ${tmp}, a write interrupted before it completed; ${file.path} holds the last saved state`));
  if (saved !== null) {
    const unusable = store.restore(saved);
    if (unusable.length > 0) throw new StoreFileError(file.path, `stored documents cannot be read: ${unusable.map((d) => d.message).join("; ")}`);
    changes.restore(saved.changes);
    h.log(`config store: ${saved.applied.length} applied resource(s) restored from ${file.path} (resourceVersion ${saved.resourceVersion})`);
  }
  store.persistWith(async ({ state, changes: changed, actor }) => {
    await file.save({ ...state, changes: actor === null ? changes.entries() : changes.preview(changed, actor.by, actor.at) });
    return undefined;
  });
  return saved !== null;
}
