// The `--store etcd[s]://…` flag of the commands that start a control plane (control-plane, up),
// with its TLS files (--store-cacert, --store-cert, --store-key): a URL that cannot be read, or
// TLS files that do not fit it, are usage errors.
import { etcdTlsProblem, type EtcdTlsFiles } from "../../control-plane/store/etcd/etcd-tls.ts";
import { parseStoreUrl } from "../../control-plane/store/etcd/store-url.ts";
import { UsageError } from "./args.ts";

/** Throws UsageError when `store` is no store URL or `tls` does not fit it. */
export function checkStoreFlag(store: string, tls: EtcdTlsFiles): void {
  let url;
  try {
    url = parseStoreUrl(store);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const problem = etcdTlsProblem(url, tls);
  if (problem !== null) throw new UsageError(problem);
}
