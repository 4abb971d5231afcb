// x-forwarded-client-cert as Envoy builds it (conn_manager_utility.cc mutateXfccRequestHeader).
// What a connection does to the header is decided once, when it is accepted (xfccPlan): Envoy's
// forward_client_cert_details — SANITIZE (removed), FORWARD_ONLY (the client's, as sent, on mTLS
// connections only), APPEND_FORWARD (this hop's element appended with `,`), SANITIZE_SET (this
// hop's element alone), ALWAYS_FORWARD_ONLY (the client's, as sent, on any connection); every mode
// but the last removes it from a connection without a client certificate. The element is `;`-joined
// in Envoy's order: By (one per local URI SAN), Hash (hex SHA-256 of the peer certificate's DER),
// then the set_current_client_cert_details that are on: Cert (URL-encoded PEM, quoted), Subject
// (always quoted, present even when empty), URI (`URI=` when the peer has none), DNS (one per DNS
// SAN). Istio's sidecar inbound: APPEND_FORWARD with Subject, URI, DNS (mesh-tls.ts); its gateways:
// SANITIZE_SET with Subject, Cert, URI, DNS (the listener's `xfcc`, set by translation).
import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { cryptoModule } from "../../core/builtins.ts";
import type { ListenerXfcc } from "../../model/proxy-config.ts";

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

/** Which details the element carries (Envoy's set_current_client_cert_details; Chain is never set by Istio). */
export interface XfccDetails {
  readonly subject?: boolean;
  readonly cert?: boolean;
  readonly uri?: boolean;
  readonly dns?: boolean;
}

/** Istio's sidecar inbound details (the default). */
export const SIDECAR_XFCC_DETAILS: XfccDetails = { subject: true, uri: true, dns: true };

export function xfccElement(f: XfccFacts, details: XfccDetails = SIDECAR_XFCC_DETAILS): string {
  let s = "";
  for (const by of f.by) s += "By=" + by + ";";
  s += "Hash=" + cryptoModule().createHash("sha256").update(f.peerDer).digest("hex");
  if (details.cert === true) s += ';Cert="' + urlEncodedPem(f.peerDer) + '"';
  // Control characters never reach a header line (a subject is the client's CA's text).
  if (details.subject === true) s += ';Subject="' + f.subject.replace(/[\x00-\x1f\x7f]/g, "").replace(/"/g, '\\"') + '"';
  if (details.uri === true) {
    if (f.uris.length === 0) s += ";URI=";
    for (const u of f.uris) s += ";URI=" + u;
  }
  if (details.dns === true) for (const d of f.dns) s += ";DNS=" + d;
  return s;
}

/** The certificate as PEM (64-column base64, as OpenSSL writes it) with Envoy's escapes: newline, space, `+`, `/`, `=`. */
export function urlEncodedPem(der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  const pem = "-----BEGIN CERTIFICATE-----\n" + b64 + "\n-----END CERTIFICATE-----\n";
  return pem.replace(/[\n +/=]/g, (c) => (c === "\n" ? "%0A" : c === " " ? "%20" : c === "+" ? "%2B" : c === "/" ? "%2F" : "%3D"));
}

/** What a connection does to the header of each request on it; null: the header is removed. */
export interface XfccPlan {
  /** forward: the client's value as sent; append: sent + "," + element; set: element alone. */
  readonly mode: "forward" | "append" | "set";
  readonly element: string;
}

const FORWARD: XfccPlan = { mode: "forward", element: "" };

/** The header value a request carries upstream under `plan`; undefined: none. */
export function xfccHeaderValue(plan: XfccPlan, sent: string | undefined): string | undefined {
  if (plan.mode === "set") return plan.element;
  if (plan.mode === "append") return xfccValue(sent, plan.element);
  return sent === "" ? undefined : sent;
}

/** Envoy's decision for one connection: `tls` is the TLS socket (null for plaintext). */
export function xfccPlan(cfg: ListenerXfcc, tls: TLSSocket | null): XfccPlan | null {
  if (cfg.forward === "ALWAYS_FORWARD_ONLY") return FORWARD;
  if (cfg.forward === "SANITIZE" || tls === null) return null;
  const peer = tls.getPeerX509Certificate();
  // Envoy's peerCertificatePresented: a connection without a client certificate is not mTLS.
  if (peer === undefined) return null;
  if (cfg.forward === "FORWARD_ONLY") return FORWARD;
  return { mode: cfg.forward === "APPEND_FORWARD" ? "append" : "set", element: xfccOf(tls, cfg.details ?? {}, peer) };
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

/**
 * RFC 2253 subject (last RDN first, `,`-joined) from X509Certificate.subject, which lists the RDNs
 * first to last, one per line, values already escaped (`O=Acme\\, Inc`).
 */
export function rfc2253(subject: string | undefined): string {
  if (subject === undefined || subject === "") return "";
  return subject.split("\n").filter((l) => l !== "").reverse().join(",");
}

/** The element of a verified mTLS connection (`peer`: its certificate, read once per connection by the caller). */
export function xfccOf(t: TLSSocket, details: XfccDetails = SIDECAR_XFCC_DETAILS, peer: X509Certificate | undefined = t.getPeerX509Certificate()): string {
  if (peer === undefined) return "";
  return xfccElement({
    by: sans(t.getX509Certificate()?.subjectAltName, "URI"),
    peerDer: peer.raw,
    subject: rfc2253(peer.subject),
    uris: sans(peer.subjectAltName, "URI"),
    dns: sans(peer.subjectAltName, "DNS"),
  }, details);
}
