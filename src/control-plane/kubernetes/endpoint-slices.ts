// EndpointSlices (discovery.k8s.io/v1) as the endpoints of the Services they belong to (label
// `kubernetes.io/service-name`), as Istio's Kubernetes registry reads them: an endpoint is ready
// unless its `ready` condition is false (nil means ready); a not-ready one stays with
// healthy:false, unless it is terminating (then it is left out, as Istio leaves terminating
// endpoints out of EDS). An endpoint whose targetRef is a pod the control plane knows takes that
// pod's labels, service account, workload and sidecar (Istio looks the pod up by IP), and a port
// of a pod with a sidecar is the inbound listener it is redirected to (pod-instance.ts). Used for
// Services without a selector (snapshot.ts); a Service with one is served from the pods it
// selects (docs/kubernetes.md, "EndpointSlices"). Pure.
import type { WorkloadInstance } from "../../model/registry.ts";
import type { KubeObject } from "./reflector.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

interface SlicePort {
  name?: string;
  port?: number;
  protocol?: string;
}

/** The Service (`namespace/name`) a slice belongs to, or null without the label. */
export function sliceService(slice: KubeObject): string | null {
  const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return name ? `${slice.metadata.namespace ?? "default"}/${name}` : null;
}

/** One slice's endpoints as instances, ports keyed by the slice port's name (`""` unnamed). */
export function sliceInstances(slice: KubeObject, pod: (namespace: string, name: string) => WorkloadInstance | undefined): WorkloadInstance[] {
  const namespace = slice.metadata.namespace ?? "default";
  if (slice.addressType !== "IPv4" && slice.addressType !== "IPv6") return [];
  const ports: SlicePort[] = Array.isArray(slice.ports) ? (slice.ports as SlicePort[]) : [];
  const out: WorkloadInstance[] = [];
  for (const e of Array.isArray(slice.endpoints) ? (slice.endpoints as SliceEndpoint[]) : []) {
    const address = e.addresses?.[0];
    if (!address) continue;
    const ready = e.conditions?.ready !== false;
    if (!ready && e.conditions?.terminating === true) continue;
    const ref = e.targetRef?.kind === "Pod" && e.targetRef.name ? pod(e.targetRef.namespace ?? namespace, e.targetRef.name) : undefined;
    const byName: Record<string, number> = {};
    for (const p of ports) {
      if (typeof p.port !== "number" || (p.protocol ?? "TCP") !== "TCP") continue;
      // A pod with a sidecar is reached on the inbound listener its app port is redirected to.
      byName[p.name ?? ""] = ref?.sidecar === true ? (ref.ports?.[String(p.port)] ?? p.port) : p.port;
    }
    const instance: WorkloadInstance = {
      name: ref?.name ?? e.targetRef?.name ?? `${slice.metadata.name}-${address}`,
      namespace,
      labels: { ...(ref?.labels ?? {}) },
      serviceAccount: ref?.serviceAccount ?? "",
      address,
      ports: byName,
      ready,
    };
    if (ref?.workload !== undefined) instance.workload = ref.workload;
    if (ref?.sidecar === true) instance.sidecar = true;
    out.push(instance);
  }
  return out;
}
