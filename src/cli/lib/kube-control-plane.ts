// `--kubeconfig FILE` for the commands that read a control plane (proxy-status, proxy-config): the
// control plane installed in a cluster is reached through the API server's service proxy
// (`/api/v1/namespaces/<ns>/services/https:amime:15012/proxy/…`), as kubectl reaches a Service,
// so it works wherever the API server does; the cluster's own credentials (kubectl's lookup) get
// there. The control plane's admin credential is the Secret `amime-admin-token` it publishes in its
// namespace (so who may read that Secret may use it, as who may port-forward to istiod may use
// istioctl); it travels as X-Amime-Token, since the API server removes Authorization before it
// proxies. TLS to the control plane is the API server's hop. See docs/kubernetes.md.
import type { ParsedArgs } from "./args.ts";
import { ControlPlaneAddressError } from "./control-plane-address.ts";
import { ControlPlaneClient } from "./control-plane-client.ts";

/** The installed Service (`amime install`) and its xDS/API port. */
const SERVICE = "https:amime:15012";
const DEFAULT_NAMESPACE = "istio-system";

/** Whether the command reaches the control plane through a cluster (--kubeconfig or --context given). */
export function throughCluster(args: ParsedArgs): boolean {
  return args.strings.has("kubeconfig") || args.strings.has("context");
}

export async function connectThroughCluster(args: ParsedArgs): Promise<ControlPlaneClient> {
  const { ADMIN_TOKEN_SECRET, apiServerFailure, findKubeConfig, getJson, KubeApiError } = await import("../../control-plane/kubernetes/index.ts");
  const conn = findKubeConfig(args.strings.get("kubeconfig"), process.env, args.strings.get("context"));
  const ns = args.strings.get("istio-namespace") ?? DEFAULT_NAMESPACE;
  let token: string;
  try {
    const secret = (await getJson(conn, `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${ADMIN_TOKEN_SECRET}`)) as { data?: { token?: string } };
    token = Buffer.from(secret.data?.token ?? "", "base64").toString("utf8").trim();
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404) throw new ControlPlaneAddressError("AMIME_NO_CONTROL_PLANE", `cannot find the control plane through ${conn.server} (${conn.origin}): no Secret ${ns}/${ADMIN_TOKEN_SECRET}: is the control plane running in namespace ${ns}? (-i NS names another)`);
    throw new ControlPlaneAddressError("AMIME_NO_CONTROL_PLANE", `cannot find the control plane: ${apiServerFailure(conn, e, e instanceof KubeApiError)}`);
  }
  if (token === "") throw new ControlPlaneAddressError("AMIME_NO_CONTROL_PLANE", `Secret ${ns}/${ADMIN_TOKEN_SECRET} holds no token`);
  const kubeToken = conn.token?.();
  return new ControlPlaneClient(`${conn.server}/api/v1/namespaces/${encodeURIComponent(ns)}/services/${SERVICE}/proxy`, {
    from: `the API server's service proxy, ${conn.origin}`,
    credential: { token, from: `Secret ${ns}/${ADMIN_TOKEN_SECRET}` },
    through: {
      tls: { ...(conn.ca !== undefined ? { ca: conn.ca } : {}), ...(conn.cert !== undefined ? { cert: conn.cert } : {}), ...(conn.key !== undefined ? { key: conn.key } : {}), rejectUnauthorized: !conn.insecure },
      headers: kubeToken ? { authorization: `Bearer ${kubeToken}` } : {},
    },
  });
}

/** The flags it reads, for the commands' parseArgs. */
export const KUBE_FLAGS = [
  { name: "kubeconfig", type: "string" },
  { name: "context", type: "string" },
  { name: "istio-namespace", short: "i", type: "string" },
] as const;

/** The help lines of the flags that say which control plane a reading command asks, and how (COMMON_FLAGS' and KUBE_FLAGS). */
export const CONTROL_PLANE_ACCESS_HELP = `  --control-plane URL   control plane to ask (default: $AMIME_CONTROL_PLANE, else .amime/up.json
                        written by \`amime up\` in this directory or a parent)
  --token-file FILE     admin credential (default: $AMIME_TOKEN, else .amime/admin-token
                        beside the state file or in this directory or a parent)
  --kubeconfig FILE     reach the control plane installed in a Kubernetes cluster through its API
                        server's service proxy (Service amime, port 15012), with Secret
                        amime-admin-token of its namespace as credential (docs/kubernetes.md)
  --context NAME        with --kubeconfig (or alone: kubectl's lookup), this context of the
                        kubeconfig instead of its current-context
  -i, --istio-namespace NS  the control plane's namespace with --kubeconfig (default istio-system)
  -h, --help            show this help`;
