// TLS termination for Gateway servers: HTTPS servers with tls SIMPLE or MUTUAL become HTTP
// listeners with a `tls` block, one certificate entry per server (chosen by SNI among the
// server's hosts). credentialName (Kubernetes secrets), PASSTHROUGH, AUTO_PASSTHROUGH,
// ISTIO_MUTUAL and OPTIONAL_MUTUAL are not translated: such servers get no listener.
import type { Server } from "../../config/types/networking.ts";
import type { DownstreamTlsConfig, DownstreamTlsServer } from "../../model/proxy-config.ts";
import { arr, obj, str } from "./common.ts";

/** Whether a Gateway HTTPS server terminates TLS in a way this proxy supports. */
export function terminatesTls(server: Server): boolean {
  const tls = obj(server.tls);
  const mode = str(tls?.mode);
  return (mode === "SIMPLE" || mode === "MUTUAL") && str(tls?.serverCertificate) !== undefined && str(tls?.privateKey) !== undefined;
}

/** The listener TLS for the servers of one port; undefined when none terminates TLS. */
export function gatewayListenerTls(servers: readonly Server[]): DownstreamTlsConfig | undefined {
  const out: DownstreamTlsServer[] = [];
  let minVersion: DownstreamTlsConfig["minProtocolVersion"];
  for (const s of servers) {
    if (!terminatesTls(s)) continue;
    const tls = obj(s.tls)!;
    const hosts = arr(s.hosts).filter((h): h is string => typeof h === "string").map((h) => (h.includes("/") ? h.slice(h.indexOf("/") + 1) : h));
    const entry: DownstreamTlsServer = { hosts, mode: tls.mode === "MUTUAL" ? "MUTUAL" : "SIMPLE", serverCertificate: tls.serverCertificate!, privateKey: tls.privateKey! };
    const ca = str(tls.caCertificates);
    if (ca !== undefined) entry.caCertificates = ca;
    const sans = arr(tls.subjectAltNames).filter((x): x is string => typeof x === "string");
    if (sans.length > 0) entry.subjectAltNames = sans;
    out.push(entry);
    if (tls.minProtocolVersion === "TLSV1_3") minVersion = "TLSv1.3";
    else if (tls.minProtocolVersion === "TLSV1_2" && minVersion === undefined) minVersion = "TLSv1.2";
  }
  if (out.length === 0) return undefined;
  return { servers: out, ...(minVersion !== undefined ? { minProtocolVersion: minVersion } : {}) };
}
