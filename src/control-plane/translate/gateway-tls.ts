// TLS termination for Gateway servers: HTTPS servers with tls SIMPLE, MUTUAL, OPTIONAL_MUTUAL or
// ISTIO_MUTUAL become HTTP listeners with a `tls` block, one certificate entry per server (chosen by
// SNI among the server's hosts): certificate files, or `credentialName`, which the gateway proxy
// resolves in its own secret store, or (ISTIO_MUTUAL) the gateway's workload certificate
// (docs/security.md). PASSTHROUGH and AUTO_PASSTHROUGH are TCP listeners (tcp-listeners.ts,
// auto-passthrough.ts); `credentialNames` is not translated: such servers get no listener.
import type { Server } from "../../model/specs/networking.ts";
import type { DownstreamTlsConfig, DownstreamTlsServer } from "../../model/proxy-config.ts";
import { arr, obj, str } from "./common.ts";

/** Whether a Gateway HTTPS server terminates TLS in a way this proxy supports. */
export function terminatesTls(server: Server): boolean {
  const tls = obj(server.tls);
  const mode = str(tls?.mode);
  if (mode === "ISTIO_MUTUAL") return true;
  if (mode !== "SIMPLE" && mode !== "MUTUAL" && mode !== "OPTIONAL_MUTUAL") return false;
  return nonEmpty(tls?.credentialName) || (nonEmpty(tls?.serverCertificate) && nonEmpty(tls?.privateKey));
}

function nonEmpty(x: unknown): boolean {
  return typeof x === "string" && x !== "";
}

/** The listener TLS for the servers of one port; undefined when none terminates TLS. */
export function gatewayListenerTls(servers: readonly Server[]): DownstreamTlsConfig | undefined {
  const out: DownstreamTlsServer[] = [];
  let minVersion: DownstreamTlsConfig["minProtocolVersion"];
  for (const s of servers) {
    if (!terminatesTls(s)) continue;
    const tls = obj(s.tls)!;
    const hosts = arr(s.hosts).filter((h): h is string => typeof h === "string").map((h) => (h.includes("/") ? h.slice(h.indexOf("/") + 1) : h));
    const mode = tls.mode === "MUTUAL" || tls.mode === "OPTIONAL_MUTUAL" || tls.mode === "ISTIO_MUTUAL" ? tls.mode : "SIMPLE";
    const entry: DownstreamTlsServer = { hosts, mode };
    // credentialName and file paths do not mix (validation rejects it); the name wins here.
    if (mode === "ISTIO_MUTUAL") {
      // The gateway's workload certificate; validation rejects any file or credential here.
    } else if (nonEmpty(tls.credentialName)) entry.credentialName = tls.credentialName!;
    else {
      entry.serverCertificate = tls.serverCertificate!;
      entry.privateKey = tls.privateKey!;
      const ca = str(tls.caCertificates);
      if (ca !== undefined && ca !== "") entry.caCertificates = ca;
    }
    const crl = str(tls.caCrl);
    if (crl !== undefined && crl !== "" && (mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL")) entry.caCrl = crl;
    const sans = arr(tls.subjectAltNames).filter((x): x is string => typeof x === "string");
    if (sans.length > 0) entry.subjectAltNames = sans;
    out.push(entry);
    if (tls.minProtocolVersion === "TLSV1_3") minVersion = "TLSv1.3";
    else if (tls.minProtocolVersion === "TLSV1_2" && minVersion === undefined) minVersion = "TLSv1.2";
  }
  if (out.length === 0) return undefined;
  return { servers: out, ...(minVersion !== undefined ? { minProtocolVersion: minVersion } : {}) };
}
