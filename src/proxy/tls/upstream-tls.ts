// TLS origination toward an upstream (DestinationRule `tls` SIMPLE / MUTUAL): node:tls with the
// cluster's CA bundle, client certificate and key (files, read once and cached by path), SNI and
// subjectAltNames verification. Verification is on by default, as in Istio; only
// `insecureSkipVerify: true` turns it off. ISTIO_MUTUAL needs the mesh CA (not here yet): it is
// refused rather than silently sent in plain text.
import { readFileSync } from "node:fs";
import { isIP, Socket, type TcpSocketConnectOpts } from "node:net";
import { checkServerIdentity, connect, type ConnectionOptions, type PeerCertificate } from "node:tls";
import type { UpstreamTlsConfig } from "../../model/proxy-config.ts";

/** What a TLS upstream connection needs beyond the address (a Host satisfies it). */
export interface TlsTarget {
  readonly address: string;
}

export class UpstreamTlsError extends Error {
  readonly code: "TLS_UNSUPPORTED_MODE" | "TLS_FILE";
  constructor(code: UpstreamTlsError["code"], message: string) {
    super(`upstream tls: ${message}`);
    this.name = "UpstreamTlsError";
    this.code = code;
  }
}

const files = new Map<string, Buffer>();

/** File contents by path, cached: origination must not touch the disk per connection. */
function readCached(path: string): Buffer {
  let b = files.get(path);
  if (b === undefined) {
    try {
      b = readFileSync(path);
    } catch (e) {
      throw new UpstreamTlsError("TLS_FILE", `cannot read ${path}: ${(e as Error).message}`);
    }
    files.set(path, b);
  }
  return b;
}

/** Forget cached files (certificate rotation on config push). */
export function clearTlsFileCache(): void {
  files.clear();
}

/** node:tls options for one cluster's TLS settings. */
export function upstreamTlsOptions(tls: UpstreamTlsConfig, target: TlsTarget): ConnectionOptions {
  if (tls.mode === "ISTIO_MUTUAL") throw new UpstreamTlsError("TLS_UNSUPPORTED_MODE", "ISTIO_MUTUAL needs the mesh certificate authority, which this proxy does not have yet");
  const opts: ConnectionOptions = { rejectUnauthorized: !tls.insecureSkipVerify, ALPNProtocols: ["http/1.1"] };
  // SNI: the configured name, else (Envoy's auto_sni) the endpoint's host name; IPs are never sent.
  const sni = tls.sni ?? (isIP(target.address) === 0 ? target.address : undefined);
  if (sni !== undefined && isIP(sni) === 0) opts.servername = sni;
  if (tls.caCertificates !== undefined) opts.ca = readCached(tls.caCertificates);
  if (tls.mode === "MUTUAL") {
    if (tls.clientCertificate !== undefined) opts.cert = readCached(tls.clientCertificate);
    if (tls.privateKey !== undefined) opts.key = readCached(tls.privateKey);
  }
  const sans = tls.subjectAltNames;
  opts.checkServerIdentity = (host: string, cert: PeerCertificate): Error | undefined => {
    if (tls.insecureSkipVerify) return undefined;
    // With subjectAltNames, the certificate must carry one of them (Envoy's match_subject_alt_names);
    // without, the usual host name check against the SNI.
    if (sans.length > 0) return sanMatches(cert, sans) ? undefined : new Error(`certificate SANs do not include any of ${sans.join(", ")}`);
    return sni === undefined ? undefined : checkServerIdentity(sni, cert);
  };
  return opts;
}

/** The certificate's DNS, URI or IP SANs contain one of `wanted` (exact match). */
export function sanMatches(cert: PeerCertificate, wanted: readonly string[]): boolean {
  const have = new Set<string>();
  for (const part of (cert.subjectaltname ?? "").split(",")) {
    const p = part.trim();
    const colon = p.indexOf(":");
    if (colon > 0) have.add(p.slice(colon + 1));
  }
  return wanted.some((w) => have.has(w));
}

/** Dial `net` options over TLS for this cluster. Errors (bad files, handshake) surface as socket errors. */
export function connectUpstreamTls(net: TcpSocketConnectOpts & { onread?: unknown }, tls: UpstreamTlsConfig, target: TlsTarget): Socket {
  let extra: ConnectionOptions;
  try {
    extra = upstreamTlsOptions(tls, target);
  } catch (e) {
    // A socket that fails at once keeps one error path for callers (connect failure, UF).
    const s = new Socket();
    s.destroy(e as Error);
    return s;
  }
  return connect({ ...(net as ConnectionOptions), ...extra });
}
