// The admin credential of a control plane on a cluster, published as Secret `amime-admin-token`
// (key `token`) in its namespace, so `amime proxy-status --kubeconfig` can use it through the API
// server (cli/lib/kube-control-plane.ts): Kubernetes RBAC on that Secret decides who may, as RBAC
// on port-forward decides who may run istioctl against istiod. Written at start (created, or
// updated when the state dir's key changed). See docs/kubernetes.md.
import type { KubeConnection } from "./kube-config.ts";
import { getJson, KubeApiError, postJson, putJson, type KubeObject } from "./reflector.ts";

export const ADMIN_TOKEN_SECRET = "amime-admin-token";

export async function publishAdminToken(conn: KubeConnection, namespace: string, token: string): Promise<"created" | "updated" | "unchanged"> {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const data = { token: Buffer.from(token).toString("base64") };
  let current: KubeObject | null = null;
  try {
    current = (await getJson(conn, `${base}/${ADMIN_TOKEN_SECRET}`)) as KubeObject;
  } catch (e) {
    if (!(e instanceof KubeApiError && e.status === 404)) throw e;
  }
  if (current === null) {
    await postJson(conn, base, { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: ADMIN_TOKEN_SECRET, namespace, labels: { app: "amime" } }, data });
    return "created";
  }
  if ((current.data as { token?: string } | undefined)?.token === data.token) return "unchanged";
  await putJson(conn, `${base}/${ADMIN_TOKEN_SECRET}`, { ...current, data });
  return "updated";
}
