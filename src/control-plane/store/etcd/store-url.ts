// `--store etcd://HOST:PORT[,HOST:PORT…][/PREFIX]`: the etcd members a control plane keeps its
// config in, and the key prefix under which (default `/amime/`). Any member will do: the client
// fails over between them. `etcds://` is the same over TLS (etcd's https:// client URLs), with the
// CA and client certificate of `--store-cacert`, `--store-cert`, `--store-key` (etcd-tls.ts).

/** The value of --store is not a store this control plane knows (layer: control plane store). */
export class StoreUrlError extends Error {
  readonly code = "CP_STORE_URL";
  constructor(given: string, why: string) {
    super(`--store ${JSON.stringify(given)}: ${why} (expected etcd://HOST:PORT[,HOST:PORT…][/PREFIX], or etcds:// for TLS)`);
    this.name = "StoreUrlError";
  }
}

export interface EtcdStoreUrl {
  /** Client URLs, `http://HOST:PORT` (`https://` with etcds://). */
  endpoints: string[];
  /** etcds://: TLS to every member. */
  tls: boolean;
  /** Key prefix, always starting and ending with `/`. */
  prefix: string;
  /** As given (for logs and errors). */
  text: string;
}

export const DEFAULT_ETCD_PREFIX = "/amime/";

export function parseStoreUrl(text: string): EtcdStoreUrl {
  const m = /^etcd(s?):\/\/([^/]+)(\/.*)?$/.exec(text.trim());
  if (!m) throw new StoreUrlError(text, "only etcd:// and etcds:// stores are supported");
  const tls = m[1] === "s";
  const endpoints = m[2]!.split(",").map((hp) => {
    const h = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hp.trim());
    if (!h || Number(h[2]) < 1 || Number(h[2]) > 65535) throw new StoreUrlError(text, `${JSON.stringify(hp)} is not HOST:PORT`);
    return `${tls ? "https" : "http"}://${h[1]}:${h[2]}`;
  });
  const path = m[3] ?? "";
  const prefix = path === "" || path === "/" ? DEFAULT_ETCD_PREFIX : `${path.replace(/\/+$/, "")}/`;
  return { endpoints, tls, prefix, text };
}
