// TLS to a telemetry collector as the config gives it (file paths, from the DestinationRule of the
// collector's host: SIMPLE or MUTUAL) and as the transports use it (PEM bytes). The files are read
// once, asynchronously, when the first batch goes — never on a request.
import { readFileAsync } from "../../../core/builtins.ts";
import type { CollectorTlsConfig } from "../../../model/proxy-config.ts";

/** From the config: CA, client certificate and key files, the server name, skip verification. */
export type CollectorTlsFiles = CollectorTlsConfig;

/** Read: what http-post.ts and grpc-export.ts hand to TLS. */
export interface CollectorTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** The name sent (SNI) and verified; default the endpoint's host. */
  servername?: string;
  insecureSkipVerify?: boolean;
}

/** A reader that reads the files the first time it is called (a file that cannot be read rejects every time: the export fails and is counted). */
export function collectorTlsReader(f: CollectorTlsFiles): () => Promise<CollectorTls> {
  let read: Promise<CollectorTls> | null = null;
  return () =>
    (read ??= (async () => {
      const file = (p: string | undefined): Promise<Buffer | undefined> => (p === undefined ? Promise.resolve(undefined) : readFileAsync(p));
      const [ca, cert, key] = await Promise.all([file(f.caCertificates), file(f.clientCertificate), file(f.privateKey)]);
      const out: CollectorTls = {};
      if (ca !== undefined) out.ca = ca;
      if (cert !== undefined) out.cert = cert;
      if (key !== undefined) out.key = key;
      if (f.sni !== undefined) out.servername = f.sni;
      if (f.insecureSkipVerify === true) out.insecureSkipVerify = true;
      return out;
    })());
}
