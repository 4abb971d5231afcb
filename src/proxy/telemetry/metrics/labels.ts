// Istio's standard metric labels for one hop. The reporting side fills its own half from its
// NodeInfo; the other half comes from the peer's metadata header, else (client side only) from
// what the config says about the endpoint that was picked; anything still missing is "unknown".
import type { Endpoint, ServiceRef } from "../../../model/proxy-config.ts";
import { appLabel, canonicalRevision, canonicalService, spiffePrincipal, UNKNOWN, versionLabel, type PeerIdentity } from "../peer.ts";

export const HTTP_LABELS: readonly string[] = Object.freeze([
  "reporter",
  "source_workload",
  "source_canonical_service",
  "source_canonical_revision",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_version",
  "source_cluster",
  "destination_workload",
  "destination_workload_namespace",
  "destination_principal",
  "destination_app",
  "destination_version",
  "destination_service",
  "destination_service_name",
  "destination_service_namespace",
  "destination_canonical_service",
  "destination_canonical_revision",
  "destination_cluster",
  "request_protocol",
  "response_code",
  "grpc_response_status",
  "response_flags",
  "connection_security_policy",
]);

/** TCP metrics carry the same labels minus the HTTP response ones (as Istio's). */
export const TCP_LABELS: readonly string[] = Object.freeze(HTTP_LABELS.filter((n) => n !== "response_code" && n !== "grpc_response_status"));

export interface HopFacts {
  reporter: "source" | "destination";
  self: PeerIdentity;
  /** The other side's identity from its metadata header; null when it sent none. */
  peer: PeerIdentity | null;
  /** The service of the cluster the request went to (inbound clusters name their own service). */
  service: ServiceRef | undefined;
  /** Client side: the endpoint that was picked, for destination labels when the peer said nothing. */
  endpoint: Endpoint | undefined;
  /** The hop used Istio mutual TLS. */
  mtls: boolean;
  /**
   * The SPIFFE URI of the other side's certificate this side verified ("" = no verified TLS):
   * the client's at the destination (`source_principal`), the upstream server's at the source
   * (`destination_principal`). The only source of the other side's principal: a peer header
   * (which a plaintext peer could forge) or the config (what was expected, not what answered)
   * never is.
   */
  peerPrincipal: string;
  protocol: string;
  responseCode: string;
  grpcStatus: string;
  responseFlags: string;
}

/** Label values in HTTP_LABELS order (TCP_LABELS order when `tcp`). */
export function istioLabels(f: HopFacts, tcp = false): string[] {
  const src = f.reporter === "source" ? f.self : f.peer;
  const dst = f.reporter === "destination" ? f.self : (f.peer ?? fromEndpoint(f.endpoint, f.service));
  const svc = f.service;
  const self = f.self;
  const selfPrincipal = f.mtls && self.serviceAccount !== "" ? spiffePrincipal(self.trustDomain, self.namespace, self.serviceAccount) : UNKNOWN;
  // The other side's principal is the certificate this side verified on the connection (Istio:
  // the peer's URI SAN), never its metadata header nor what the config expected of it.
  const otherPrincipal = f.peerPrincipal || UNKNOWN;
  const srcPrincipal = f.reporter === "source" ? selfPrincipal : otherPrincipal;
  const dstPrincipal = f.reporter === "destination" ? selfPrincipal : otherPrincipal;
  const out = [
    f.reporter,
    src?.workload ?? UNKNOWN,
    src?.canonicalService ?? UNKNOWN,
    src?.canonicalRevision ?? UNKNOWN,
    src?.namespace ?? UNKNOWN,
    srcPrincipal,
    src?.app ?? UNKNOWN,
    src?.version ?? UNKNOWN,
    UNKNOWN,
    dst?.workload ?? UNKNOWN,
    dst?.namespace ?? UNKNOWN,
    dstPrincipal,
    dst?.app ?? UNKNOWN,
    dst?.version ?? UNKNOWN,
    svc?.host || UNKNOWN,
    svc?.name || UNKNOWN,
    svc?.namespace || UNKNOWN,
    dst?.canonicalService ?? UNKNOWN,
    dst?.canonicalRevision ?? UNKNOWN,
    UNKNOWN,
    f.protocol,
  ];
  if (!tcp) out.push(f.responseCode, f.grpcStatus);
  out.push(f.responseFlags, f.reporter === "source" ? UNKNOWN : f.mtls ? "mutual_tls" : "none");
  return out;
}

/**
 * The destination as the config describes the picked endpoint (Istio's endpoint telemetry
 * metadata): its workload (not the replica), labels, and the SPIFFE identity it must present.
 */
function fromEndpoint(e: Endpoint | undefined, svc: ServiceRef | undefined): PeerIdentity | null {
  if (e === undefined) return null;
  const labels = e.labels ?? {};
  const workload = e.workload ?? UNKNOWN;
  const id = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/(.+)$/.exec(e.serviceAccount ?? "");
  return {
    workload,
    // Istio takes the namespace from the identity when there is one.
    namespace: id?.[2] ?? (svc?.namespace || UNKNOWN),
    app: appLabel(labels),
    version: versionLabel(labels),
    canonicalService: Object.keys(labels).length > 0 || e.workload !== undefined ? canonicalService(labels, workload) : UNKNOWN,
    canonicalRevision: Object.keys(labels).length > 0 ? canonicalRevision(labels) : UNKNOWN,
    // Endpoint.serviceAccount is the whole SPIFFE URI: its account and trust domain, for the principal.
    serviceAccount: id?.[3] ?? "",
    trustDomain: id?.[1] ?? "cluster.local",
  };
}
