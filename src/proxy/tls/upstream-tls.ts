// TLS origination toward an upstream (DestinationRule `tls` SIMPLE / MUTUAL): node:tls with the
// cluster's CA bundle (none: the default trust, default-trust.ts), client certificate and key, and CRL
// (files or a `credentialName` secret, one watched context per set: upstream-contexts.ts), SNI and
// subjectAltNames verification. Verification is on by default, as in Istio; only
// `insecureSkipVerify: true` turns it off. ISTIO_MUTUAL: the sidecar's own workload certificate
// (MeshCredentials), the chain verified against the mesh trust bundle and the server's SAN against
// the service's identities; Istio's SNI and ALPN. Without a certificate yet the connection fails
// (503 UF) rather than going out in plain text.
import type * as Net from "node:net";
import type { TcpSocketConnectOpts } from "node:net";
import type { ConnectionOptions, PeerCertificate, SecureContext, TLSSocket } from "node:tls";
import type { UpstreamTlsConfig } from "../../model/proxy-config.ts";
import type { MeshCredentials } from "../identity/mesh-credentials.ts";
import { UpstreamTlsContexts } from "./upstream-contexts.ts";
import { DefaultTrustError } from "./default-trust.ts";
import { net, tlsModule } from "../../core/builtins.ts";
import { connectKeepingPeer, keptServerPeer, serverPeerOf, type ServerPeer } from "./server-peer.ts";

const { isIP, Socket } = net;
type Socket = Net.Socket;

/** What a TLS upstream connection needs beyond the address (a Host satisfies it). */
export interface TlsTarget {
  readonly address: string;
}

export class UpstreamTlsError extends Error {
  readonly code: "TLS_NO_CERTIFICATE" | "TLS_FILE" | "TLS_NO_DEFAULT_TRUST";
  constructor(code: UpstreamTlsError["code"], message: string) {
    super(`upstream tls: ${message}`);
    this.name = "UpstreamTlsError";
    this.code = code;
  }
}

/** Contexts for callers that bring none (files only, no secret store). */
let fallbackContexts: UpstreamTlsContexts | null = null;

function defaultContexts(): UpstreamTlsContexts {
  fallbackContexts ??= new UpstreamTlsContexts({ namespace: "default", log: (l) => process.stderr.write(`amime proxy: ${l}\n`) });
  return fallbackContexts;
}

/** node:tls options for one cluster's TLS settings. */
export function upstreamTlsOptions(tls: UpstreamTlsConfig, target: TlsTarget, mesh?: MeshCredentials, h2 = false, contexts: UpstreamTlsContexts = defaultContexts()): ConnectionOptions {
  if (tls.mode === "ISTIO_MUTUAL") return istioMutualOptions(tls, mesh, h2);
  const opts: ConnectionOptions = { rejectUnauthorized: !tls.insecureSkipVerify, ALPNProtocols: ["http/1.1"] };
  // SNI: the configured name, else (Envoy's auto_sni) the endpoint's host name; IPs are never sent.
  const sni = tls.sni ?? (isIP(target.address) === 0 ? target.address : undefined);
  if (sni !== undefined && isIP(sni) === 0) opts.servername = sni;
  let context: SecureContext | null | undefined;
  try {
    context = contexts.contextFor(tls);
  } catch (e) {
    throw new UpstreamTlsError(e instanceof DefaultTrustError ? "TLS_NO_DEFAULT_TRUST" : "TLS_FILE", (e as Error).message);
  }
  if (context === null) throw new UpstreamTlsError("TLS_NO_CERTIFICATE", contexts.errorFor(tls) ?? `credentialName "${tls.credentialName ?? ""}" is not usable`);
  if (context !== undefined) opts.secureContext = context;
  const sans = tls.subjectAltNames;
  opts.checkServerIdentity = (host: string, cert: PeerCertificate): Error | undefined => {
    if (tls.insecureSkipVerify) return undefined;
    // With subjectAltNames, the certificate must carry one of them (Envoy's match_subject_alt_names);
    // without, the usual host name check against the SNI.
    if (sans.length > 0) return sanMatches(cert, sans) ? undefined : new Error(`certificate SANs do not include any of ${sans.join(", ")}`);
    return sni === undefined ? undefined : tlsModule().checkServerIdentity(sni, cert);
  };
  return opts;
}

/** Istio's client ALPN for mTLS clusters (pilot cluster_tls.go): peer exchange, then `istio`, then h2 for HTTP/2 clusters. */
const ALPN_MESH = ["istio-peer-exchange", "istio"];
const ALPN_MESH_H2 = ["istio-peer-exchange", "istio", "h2"];

function istioMutualOptions(tls: UpstreamTlsConfig, mesh: MeshCredentials | undefined, h2: boolean): ConnectionOptions {
  const secureContext = mesh?.context;
  if (secureContext == null) throw new UpstreamTlsError("TLS_NO_CERTIFICATE", "ISTIO_MUTUAL: this proxy has no workload certificate (yet)");
  const sans = tls.subjectAltNames;
  const opts: ConnectionOptions = {
    secureContext,
    rejectUnauthorized: true,
    ALPNProtocols: h2 ? ALPN_MESH_H2 : ALPN_MESH,
    // The chain is checked against the trust bundle by rejectUnauthorized; the name check is the
    // SAN list (Envoy's match_typed_subject_alt_names), never the SNI, which is a routing key.
    // Beyond Istio: the CA's deny list applies to the server's certificate too.
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => {
      const denied = mesh?.deniedReason(cert) ?? null;
      if (denied !== null) return new Error(`peer certificate: ${denied}`);
      return sans.length === 0 || sanMatches(cert, sans) ? undefined : new Error(`peer certificate SANs (${cert.subjectaltname ?? "none"}) include none of ${sans.join(", ")}`);
    },
  };
  if (tls.sni !== undefined && isIP(tls.sni) === 0) opts.servername = tls.sni;
  return opts;
}

/** The certificate's DNS, URI or IP SANs contain one of `wanted` (exact match). */
export function sanMatches(cert: PeerCertificate, wanted: readonly string[]): boolean {
  return sanListMatches(cert.subjectaltname, wanted);
}

/** The same on a subjectAltName list as Node writes it (`URI:a, DNS:b`: X509Certificate.subjectAltName). */
export function sanListMatches(subjectAltName: string | undefined, wanted: readonly string[]): boolean {
  const have = new Set<string>();
  for (const part of (subjectAltName ?? "").split(",")) {
    const p = part.trim();
    const colon = p.indexOf(":");
    if (colon > 0) have.add(p.slice(colon + 1));
  }
  return wanted.some((w) => have.has(w));
}

/**
 * The SPIFFE id (first URI SAN) of the server certificate a TLS upstream connection verified, ""
 * for plaintext, an unverified handshake (insecureSkipVerify) or a certificate without one. Read
 * once per connection when the handshake completes; requests on it read the stored string
 * (Envoy's `upstream.uri_san_peer_certificate`, Istio's client-side `destination_principal`).
 */
export function verifiedServerPrincipal(socket: Socket): string {
  const t = socket as Socket & { authorized?: boolean; getPeerCertificate?: () => PeerCertificate | null };
  if (t.authorized !== true || typeof t.getPeerCertificate !== "function") return "";
  // Kept from the handshake's own check (server-peer.ts); else parsed once more. getPeerCertificate,
  // not getPeerX509Certificate: on a client socket (Node 24) the latter works once and leaves both
  // empty afterwards.
  const kept = keptServerPeer(socket);
  if (kept !== undefined) return kept.principal;
  const cert = t.getPeerCertificate();
  return cert === null ? "" : serverPeerOf(cert).principal;
}

/** tls.connect for an upstream: the server certificate the handshake verifies is kept (server-peer.ts). */
export function connectTls(opts: ConnectionOptions, resumedPeer?: ServerPeer): TLSSocket {
  return connectKeepingPeer((o) => tlsModule().connect(o), opts, resumedPeer);
}

/** Dial `net` options over TLS for this cluster. Errors (bad files, handshake) surface as socket errors. */
export function connectUpstreamTls(net: TcpSocketConnectOpts & { onread?: unknown }, tls: UpstreamTlsConfig, target: TlsTarget, mesh?: MeshCredentials, contexts?: UpstreamTlsContexts): Socket {
  let extra: ConnectionOptions;
  try {
    extra = upstreamTlsOptions(tls, target, mesh, false, contexts);
  } catch (e) {
    // A socket that fails at once keeps one error path for callers (connect failure, UF).
    const s = new Socket();
    s.destroy(e as Error);
    return s;
  }
  if (tls.mode !== "ISTIO_MUTUAL" || mesh === undefined) return connectTls({ ...(net as ConnectionOptions), ...extra });
  // Session resumption toward this endpoint (Envoy reuses client sessions by default): a new
  // connection after the first skips the certificate exchange and signatures.
  const key = `${net.host ?? ""}:${net.port}|${extra.servername ?? ""}|${(extra.ALPNProtocols as string[] | undefined)?.join(",") ?? ""}|${tls.subjectAltNames.join(",")}`;
  const kept = mesh.sessionFor(key);
  const socket = connectTls({ ...(net as ConnectionOptions), ...extra, ...(kept !== undefined ? { session: kept.session } : {}) }, kept?.peer);
  mesh.keepSessions(socket, key, () => keptServerPeer(socket));
  if (kept !== undefined) socket.once("error", () => mesh.dropSession(key));
  mesh.trackUpstream(socket);
  return socket;
}
