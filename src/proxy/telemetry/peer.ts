// Peer metadata: who is on the other side of a hop. The client sidecar sends its workload identity
// in `x-amime-peer` on the upstream request; the server sidecar reads it (for its
// reporter=destination labels), strips it before the app, and answers with its own identity in
// the response, which the client sidecar reads and strips (for reporter=source labels). Istio does
// the same with x-envoy-peer-metadata (a base64 protobuf); a `k=v;…` line is easier to debug.
import type { NodeInfo } from "../../model/proxy-config.ts";

export const PEER_HEADER = "x-amime-peer";

export interface PeerIdentity {
  workload: string;
  namespace: string;
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
  serviceAccount: string;
  /** The trust domain, for the SPIFFE principal. */
  trustDomain: string;
}

export const UNKNOWN = "unknown";

/** Istio's canonical service: the canonical-name label, else app.kubernetes.io/name, else app, else the workload. */
export function canonicalService(labels: Readonly<Record<string, string>>, workload: string): string {
  return labels["service.istio.io/canonical-name"] || labels["app.kubernetes.io/name"] || labels.app || workload || UNKNOWN;
}

/** Istio's canonical revision: the canonical-revision label, else app.kubernetes.io/version, else version, else "latest". */
export function canonicalRevision(labels: Readonly<Record<string, string>>): string {
  return labels["service.istio.io/canonical-revision"] || labels["app.kubernetes.io/version"] || labels.version || "latest";
}

/** `source_app` / `destination_app`: the `app` label, else `app.kubernetes.io/name`. */
export function appLabel(labels: Readonly<Record<string, string>>): string {
  return labels.app || labels["app.kubernetes.io/name"] || UNKNOWN;
}

/** `source_version` / `destination_version`: the `version` label, else `app.kubernetes.io/version`. */
export function versionLabel(labels: Readonly<Record<string, string>>): string {
  return labels.version || labels["app.kubernetes.io/version"] || UNKNOWN;
}

export function identityOf(node: NodeInfo): PeerIdentity {
  const labels = node.labels ?? {};
  return {
    workload: node.workload || UNKNOWN,
    namespace: node.namespace || UNKNOWN,
    app: appLabel(labels),
    version: versionLabel(labels),
    canonicalService: canonicalService(labels, node.workload),
    canonicalRevision: canonicalRevision(labels),
    serviceAccount: node.serviceAccount || "default",
    trustDomain: node.trustDomain || "cluster.local",
  };
}

const KEYS: readonly [string, keyof PeerIdentity][] = [
  ["workload", "workload"],
  ["ns", "namespace"],
  ["app", "app"],
  ["version", "version"],
  ["svc", "canonicalService"],
  ["rev", "canonicalRevision"],
  ["sa", "serviceAccount"],
  ["td", "trustDomain"],
];

/** `workload=reviews-v2;ns=default;app=reviews;version=v2;svc=reviews;rev=v2;sa=bookinfo-reviews;td=cluster.local` */
export function encodePeer(id: PeerIdentity): string {
  let s = "";
  for (const [k, f] of KEYS) s += (s === "" ? "" : ";") + k + "=" + encodeURIComponent(id[f]);
  return s;
}

/** The identity in a header value; null when it is absent or malformed (never throws). */
export function decodePeer(value: string | undefined): PeerIdentity | null {
  if (value === undefined || value === "" || value.length > 1024) return null;
  const out: PeerIdentity = { workload: UNKNOWN, namespace: UNKNOWN, app: UNKNOWN, version: UNKNOWN, canonicalService: UNKNOWN, canonicalRevision: UNKNOWN, serviceAccount: "", trustDomain: "cluster.local" };
  let seen = 0;
  for (const part of value.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const entry = KEYS.find((k) => k[0] === key);
    if (entry === undefined) continue;
    let v: string;
    try {
      v = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      continue;
    }
    if (v !== "") {
      out[entry[1]] = v;
      seen++;
    }
  }
  return seen === 0 ? null : out;
}

export function spiffePrincipal(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
