// `amime install`'s objects for `amime node-agent` (docs/kubernetes.md, "The node agent"): a
// DaemonSet on every node, as Istio CNI's node agent (host network and PID namespace, root with
// the capabilities it uses), its own ServiceAccount, and a ClusterRole that reads pods and
// Services and nothing else. Pure.
import type { JsonObject } from "../../model/resource.ts";
import { NODE_AGENT_NAME } from "../../control-plane/kubernetes/node-agent-name.ts";

export function nodeAgentManifests(namespace: string, image: string): JsonObject[] {
  const labels = { app: NODE_AGENT_NAME, "app.kubernetes.io/name": NODE_AGENT_NAME, "app.kubernetes.io/part-of": "amime" };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: NODE_AGENT_NAME, namespace, labels } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: NODE_AGENT_NAME, labels },
      // The pods of its node (field selector spec.nodeName) and every Service's cluster IPs.
      rules: [{ apiGroups: [""], resources: ["pods", "services"], verbs: ["get", "list", "watch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: NODE_AGENT_NAME, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NODE_AGENT_NAME },
      subjects: [{ kind: "ServiceAccount", name: NODE_AGENT_NAME, namespace }],
    },
    {
      apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: NODE_AGENT_NAME, namespace, labels },
      spec: {
        selector: { matchLabels: { app: NODE_AGENT_NAME } },
        template: {
          metadata: { labels: { ...labels, "sidecar.istio.io/inject": "false" } },
          spec: {
            serviceAccountName: NODE_AGENT_NAME,
            // The node's processes (each pod's network namespace) and its view of pod IPs (the sidecars' status port).
            hostNetwork: true,
            hostPID: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            // Every node, tainted or not, as Istio CNI's DaemonSet: an injected pod anywhere needs it.
            tolerations: [{ operator: "Exists", effect: "NoSchedule" }, { operator: "Exists", effect: "NoExecute" }, { key: "CriticalAddonsOnly", operator: "Exists" }],
            containers: [{
              name: "node-agent",
              image,
              args: ["node-agent"],
              env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
              resources: { requests: { cpu: "10m", memory: "64Mi" } },
              securityContext: {
                runAsUser: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                // iptables in a pod's namespace (NET_ADMIN, NET_RAW), entering it (SYS_ADMIN: setns),
                // reading other processes' /proc/<pid>/ns/net and net/fib_trie (SYS_PTRACE).
                capabilities: { add: ["NET_ADMIN", "NET_RAW", "SYS_ADMIN", "SYS_PTRACE"], drop: ["ALL"] },
                // iptables takes its lock in /run (an emptyDir); nothing else is written.
                readOnlyRootFilesystem: true,
              },
              volumeMounts: [{ name: "run", mountPath: "/run" }],
            }],
            volumes: [{ name: "run", emptyDir: {} }],
          },
        },
      },
    },
  ];
}
