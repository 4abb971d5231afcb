// x-forwarded-client-cert as Envoy builds it (conn_manager_utility.cc mutateXfccRequestHeader)
// with Istio's sidecar inbound settings: forward_client_cert_details APPEND_FORWARD,
// set_current_client_cert_details Subject, URI and DNS. One element, `;`-joined in Envoy's order:
// By (one per local URI SAN), Hash (hex SHA-256 of the peer certificate's DER), Subject (always
// quoted, present even when empty), URI (`URI=` when the peer has none), DNS (one per DNS SAN).
// The element is built once per mTLS connection (mesh-tls.ts), never per request.
import { createHash } from "node:crypto";
import type { PeerCertificate, TLSSocket } from "node:tls";

export const XFCC_HEADER = "x-forwarded-client-cert";

export interface XfccFacts {
  /** The local certificate's URI SANs. */
  readonly by: readonly string[];
  /** The peer certificate's DER. */
  readonly peerDer: Buffer;
  /** The peer certificate's subject, RFC 2253 ("" for Istio's workload certificates). */
  readonly subject: string;
  readonly uris: readonly string[];
  readonly dns: readonly string[];
}

export function xfccElement(f: XfccFacts): string {
  let s = "";
  for (const by of f.by) s += "By=" + by + ";";
  s += "Hash=" + createHash("sha256").update(f.peerDer).digest("hex");
  s += ';Subject="' + f.subject.replace(/"/g, '\\"') + '"';
  if (f.uris.length === 0) s += ";URI=";
  for (const u of f.uris) s += ";URI=" + u;
  for (const d of f.dns) s += ";DNS=" + d;
  return s;
}

/** APPEND_FORWARD: the element after what the mTLS client sent (`,`-joined), else alone. */
export function xfccValue(sent: string | undefined, element: string): string {
  return sent === undefined || sent === "" ? element : sent + "," + element;
}

/** `URI:a, DNS:b, …` (Node's subjectaltname) → the values of one kind. */
export function sans(subjectaltname: string | undefined, kind: "URI" | "DNS"): string[] {
  if (subjectaltname === undefined || subjectaltname === "") return [];
  const out: string[] = [];
  const prefix = kind + ":";
  for (const part of subjectaltname.split(",")) {
    const p = part.trim();
    if (p.startsWith(prefix)) out.push(p.slice(prefix.length));
  }
  return out;
}

/** RFC 2253 subject (last RDN first, `,`-joined) from Node's parsed subject. */
export function rfc2253(subject: PeerCertificate["subject"] | undefined): string {
  if (subject === undefined || subject === null) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) for (const one of Array.isArray(v) ? v : [v]) parts.push(`${k}=${String(one).replace(/([,+"\\<>;])/g, "\\$1")}`);
  return parts.reverse().join(",");
}

/** The element of a verified mTLS connection. */
export function xfccOf(t: TLSSocket): string {
  const peer = t.getPeerCertificate();
  const local = t.getCertificate() as PeerCertificate | null | Record<string, never>;
  const localSan = local !== null && "subjectaltname" in local ? local.subjectaltname : undefined;
  return xfccElement({
    by: sans(localSan, "URI"),
    peerDer: peer.raw,
    subject: rfc2253(peer.subject),
    uris: sans(peer.subjectaltname, "URI"),
    dns: sans(peer.subjectaltname, "DNS"),
  });
}
