// Wire types: what crosses the process boundaries between the control plane, the sidecars, the
// local runtime and the CLI. Everything is JSON over HTTP/1.1 on the control plane's one port.
// The proxy and the control plane never import each other; both import this file.
//
// ── Push (control plane → sidecar), versioned with ACK/NACK ───────────────────────────────
//   GET  /xds/v1/stream?node=<node id>           long-lived response, NDJSON: one PushMessage per line
//                                                (a `{"type":"ping"}` line every 15 s keeps it alive)
//   POST /xds/v1/ack   body AckMessage            the sidecar's verdict on a pushed version
//   GET  /xds/v1/stream?node=<node id>&delta=1   the same stream, delta push (Envoy's delta xDS):
//                                                DeltaMessage lines, full state first, then only
//                                                added/changed resources and removed names
//   A sidecar keeps serving its last good config while disconnected and reconnects with
//   backoff; on reconnect the control plane sends the current config again (resync). A sidecar
//   given several control planes (replicas) moves to the next one when its stream breaks or when
//   the control plane sends `{"type":"drain"}` before it stops.
//
// ── Registry (local runtime → control plane) ─────────────────────────────────────────────
//   PUT    /api/v1/instances/<namespace>/<name>   body InstanceRegistration (upsert; readiness too)
//   DELETE /api/v1/instances/<namespace>/<name>
//
// ── Config and status (CLI → control plane) ──────────────────────────────────────────────
//   POST /api/v1/apply     body: YAML/JSON text (Content-Type text/yaml), header x-amime-source: file name
//                          → ApplyResult (200 applied, 422 refused: nothing changed)
//   POST /api/v1/delete    body: YAML/JSON text → ApplyResult
//   GET  /api/v1/resources?kind=<Kind>&namespace=<ns>&name=<name> → ResourceList
//   GET  /api/v1/proxies   → ProxyStatus[]
//   GET  /api/v1/proxies/<node id>/config → ProxyConfig (what the control plane last pushed)
//   GET  /api/v1/status    → ControlPlaneStatus
//   GET  /metrics          → Prometheus text: amime_control_plane_leader, push counters (api/metrics.ts)
//   GET  /api/v1/proxies/<node id>/secret → SecretStatus (the workload certificate issued to it)
//
// ── Workload certificates (sidecar → control plane's CA), with the proxy's own credential ──
//   POST /ca/v1/certificates  body CertificateRequest → CertificateResponse (Istio's CreateCertificate)
//   GET|POST|DELETE /api/v1/ca/revocations  (admin) list / add / remove a Revocation {serial}|{identity}
import type { Diagnostic } from "./diagnostic.ts";
import type { NodeInfo, ProxyConfig } from "./proxy-config.ts";
import type { WorkloadInstance } from "./registry.ts";
import type { ResourceType } from "./resources.ts";

export type PushMessage =
  /** The whole config (a stream opened without `delta=1`: proxies older than delta push). */
  | { type: "config"; version: string; nonce: string; config: ProxyConfig }
  | DeltaMessage
  | { type: "ping" }
  /** The control plane is stopping: move to another replica now (the stream ends next). */
  | { type: "drain" };

/**
 * One change for one proxy (Envoy's DeltaDiscoveryResponse, for every type at once so the sidecar
 * swaps one consistent config): per type, the resources added or changed (with their versions)
 * and the names removed. `full`: the proxy's whole state (the first message of a stream); every
 * resource it holds that is not listed is dropped. Answered with one AckMessage for `nonce`.
 */
export interface DeltaMessage {
  type: "delta";
  /** The control plane's config version this change brings the proxy to. */
  version: string;
  nonce: string;
  full: boolean;
  types: Partial<Record<ResourceType, TypeDelta>>;
}

export interface TypeDelta {
  /** The type's version for this proxy after the change (the config version it last changed at). */
  version: string;
  resources: DeltaResource[];
  removed: string[];
}

export interface DeltaResource {
  name: string;
  /** Content hash: equal version, equal resource. */
  version: string;
  resource: unknown;
}

export interface AckMessage {
  node: string;
  version: string;
  nonce: string;
  /** false = NACK: the sidecar could not apply it and keeps its last good config. */
  accepted: boolean;
  error?: string;
}

/** A workload instance as the runtime registers it, with its sidecar's identity and ports. */
export interface InstanceRegistration {
  instance: WorkloadInstance;
  /** The node id its sidecar will connect with (`sidecar~<name>.<namespace>`). */
  nodeId: string;
  node: NodeInfo;
  /** Where the sidecar's outbound (HTTP proxy) listener binds. */
  outboundPort: number;
  /**
   * Local ports set aside for this sidecar's outbound TCP listeners (one per TCP/TLS service
   * port it can reach). The control plane hands them out in order and keeps each assignment for
   * the life of the registration, so an app's `<SVC>_SERVICE_PORT` stays true. Absent: each
   * listener binds the service port itself (one sidecar per host, or a captured runtime).
   */
  tcpPortPool?: number[];
}

export interface ApplyResult {
  applied: boolean;
  /** `created`, `configured`, `unchanged`, `deleted`, per resource (`VirtualService default/reviews`). */
  changes: { resource: string; action: "created" | "configured" | "unchanged" | "deleted" }[];
  diagnostics: Diagnostic[];
  /** Config version after the change. */
  version: string;
}

export interface ResourceSummary {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** The document as stored. */
  body: Record<string, unknown>;
  source: { file: string; line: number };
  /** Where it came from: `file`, `apply`. */
  origin: string;
}

export interface ResourceList {
  items: ResourceSummary[];
}

export type SyncState = "SYNCED" | "STALE" | "NACK" | "NOT SENT";

export interface ProxyStatus {
  node: string;
  workload: string;
  namespace: string;
  connected: boolean;
  /** Version last pushed to it. */
  sentVersion: string | null;
  /** Version it last ACKed. */
  ackedVersion: string | null;
  state: SyncState;
  /** NACK reason. */
  error?: string;
  lastSeen: string;
  /** Delta push (absent: the proxy takes whole configs): per type, sent and ACKed versions and the nonce that last changed it. */
  types?: Partial<Record<ResourceType, TypeStatus>>;
}

export interface TypeStatus {
  sentVersion: string;
  sentNonce: string;
  ackedVersion: string | null;
  /** Resources of this type in the config last sent. */
  resources: number;
}

/** Push counters of a control plane since it started (Istio: pilot_xds_pushes, pilot_total_xds_rejects). */
export interface PushCounters {
  /** Whole configs sent (streams without delta push). */
  configs: number;
  /** Delta messages sent that carried a proxy's full state (a stream's first). */
  fullStates: number;
  /** Delta messages sent that carried only changes. */
  deltas: number;
  /** Resources sent in delta messages, per type. */
  resources: Partial<Record<ResourceType, number>>;
  /** Names sent as removed, per type. */
  removed: Partial<Record<ResourceType, number>>;
  /** NACKs received. */
  rejects: number;
}

export interface ControlPlaneStatus {
  version: string;
  resources: number;
  services: number;
  instances: number;
  proxies: number;
  startedAt: string;
  /** With `--store etcd://…`: this replica's name and the leader's (docs/control-plane.md, "Leader election"). */
  replica?: string;
  /** The replica holding the leader key as last seen; null while none does (or etcd is unreachable). */
  leader?: string | null;
  push?: PushCounters;
  /** Changes refused since the last good one of each source (a file, or `apply`), with why. */
  refused?: { source: string; at: string; diagnostics: Diagnostic[] }[];
}

/** A workload certificate request: the sidecar's CSR (its key never leaves it). */
export interface CertificateRequest {
  /** PEM PKCS#10; its SAN, if any, must be the caller's own SPIFFE ID. */
  csr: string;
  /** Requested lifetime (Istio's validity_duration); 0 or absent = the CA's default, 24 h. */
  ttlSeconds?: number;
}

export interface CertificateResponse {
  identity: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** Leaf first, then the intermediates; the root last when the CA is self-signed (Istio's order); PEM each. */
  certChain: string[];
  /** Roots to trust (Istio's ROOTCA). */
  trustBundle: string[];
}

/** One certificate of a chain as `proxy-config secret` shows it. */
export interface CertificateSummary {
  serial: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** URI SANs (the SPIFFE ID of a workload certificate). */
  uris: string[];
}

/** What the CA issued to one proxy most recently (like istioctl proxy-config secret). */
export interface SecretStatus {
  node: string;
  identity: string;
  issuedAt: string;
  /** Certificates issued to this node by this control plane process (1 = no rotation yet). */
  issued: number;
  certChain: CertificateSummary[];
  trustBundle: CertificateSummary[];
}

/** A certificate (by serial, lower-case hex) or an identity (SPIFFE ID) the CA no longer vouches for. */
export interface Revocation {
  serial?: string;
  identity?: string;
  /** Who revoked it, and when (ISO). */
  by: string;
  at: string;
}
