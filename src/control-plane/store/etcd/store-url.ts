// `--store etcd://HOST:PORT[,HOST:PORT…][/PREFIX]`: the etcd members a control plane keeps its
// config in, and the key prefix under which (default `/amime/`). Any member will do: the client
// fails over between them.

/** The value of --store is not a store this control plane knows (layer: control plane store). */
export class StoreUrlError extends Error {
  readonly code = "CP_STORE_URL";
  constructor(given: string, why: string) {
    super(`--store ${JSON.stringify(given)}: ${why} (expected etcd://HOST:PORT[,HOST:PORT…][/PREFIX])`);
    this.name = "StoreUrlError";
  }
}

export interface EtcdStoreUrl {
  /** Client URLs, `http://HOST:PORT`. */
  endpoints: string[];
  /** Key prefix, always starting and ending with `/`. */
  prefix: string;
  /** As given (for logs and errors). */
  text: string;
}

export const DEFAULT_ETCD_PREFIX = "/amime/";

export function parseStoreUrl(text: string): EtcdStoreUrl {
  const m = /^etcd:\/\/([^/]+)(\/.*)?$/.exec(text.trim());
  if (!m) throw new StoreUrlError(text, "only etcd:// stores are supported");
  const endpoints = m[1]!.split(",").map((hp) => {
    const h = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hp.trim());
    if (!h || Number(h[2]) < 1 || Number(h[2]) > 65535) throw new StoreUrlError(text, `${JSON.stringify(hp)} is not HOST:PORT`);
    return `http://${h[1]}:${h[2]}`;
  });
  const path = m[2] ?? "";
  const prefix = path === "" || path === "/" ? DEFAULT_ETCD_PREFIX : `${path.replace(/\/+$/, "")}/`;
  return { endpoints, prefix, text };
}
