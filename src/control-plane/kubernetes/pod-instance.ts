// A pod as a workload instance, as Istio's Kubernetes registry reads it: its IP, labels, service
// account and namespace; ready when its Ready condition is True (a not-ready pod stays an endpoint
// with healthy:false, as in EDS); its workload is the owning Deployment (the ReplicaSet's name
// without the pod-template-hash) or the direct owner; a pod with an `istio-proxy` container runs a
// sidecar (auto mTLS). A pod without an IP yet, or finished, or being deleted, is no instance.
import type { WorkloadInstance } from "../../model/registry.ts";
import type { KubeObject } from "./reflector.ts";

interface PodSpec {
  serviceAccountName?: string;
  containers?: { name: string; ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
}
interface PodStatus {
  podIP?: string;
  phase?: string;
  conditions?: { type: string; status: string }[];
}
interface OwnerReference {
  kind: string;
  name: string;
  controller?: boolean;
}

export function instanceOfPod(pod: KubeObject): WorkloadInstance | null {
  const status = (pod.status ?? {}) as PodStatus;
  const spec = (pod.spec ?? {}) as PodSpec;
  const meta = pod.metadata;
  if (!status.podIP || status.phase === "Succeeded" || status.phase === "Failed" || meta.deletionTimestamp) return null;
  const labels = meta.labels ?? {};
  const ports: Record<string, number> = {};
  for (const c of spec.containers ?? []) for (const p of c.ports ?? []) if (p.name && (p.protocol ?? "TCP") === "TCP") ports[p.name] = p.containerPort;
  const instance: WorkloadInstance = {
    name: meta.name,
    namespace: meta.namespace ?? "default",
    labels: { ...labels },
    serviceAccount: spec.serviceAccountName || "default",
    address: status.podIP,
    ready: (status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
  };
  const workload = workloadOf(meta.ownerReferences as OwnerReference[] | undefined, labels);
  if (workload !== undefined) instance.workload = workload;
  if (Object.keys(ports).length > 0) instance.ports = ports;
  if ((spec.containers ?? []).some((c) => c.name === "istio-proxy")) instance.sidecar = true;
  return instance;
}

function workloadOf(owners: OwnerReference[] | undefined, labels: Record<string, string>): string | undefined {
  const owner = owners?.find((o) => o.controller) ?? owners?.[0];
  if (owner === undefined) return undefined;
  const hash = labels["pod-template-hash"];
  if (owner.kind === "ReplicaSet" && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  return owner.name;
}
