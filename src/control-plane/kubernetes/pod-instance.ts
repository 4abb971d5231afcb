// A pod as a workload instance, as Istio's Kubernetes registry reads it: its IP, labels, service
// account and namespace; ready when its Ready condition is True (a not-ready pod stays an endpoint
// with healthy:false, as in EDS); its workload is the owning Deployment (the ReplicaSet's name
// without the pod-template-hash) or the direct owner; a pod with an `istio-proxy` container runs a
// sidecar (auto mTLS). A pod without an IP yet, or finished, or being deleted, is no instance.
import type { Json } from "../../model/resource.ts";
import type { WorkloadInstance } from "../../model/registry.ts";
import type { InstanceRegistration } from "../../model/wire.ts";
import { inboundPorts } from "../webhook/inject/inbound-ports.ts";
import { PROXY_CONTAINER } from "../webhook/inject/template.ts";
import type { KubeObject } from "./reflector.ts";

/** Istio's outbound capture port: where an injected pod's istio-init redirects outbound traffic. */
const OUTBOUND_CAPTURE_PORT = 15001;
/**
 * The local ports of an injected sidecar's outbound TCP listeners (one per TCP service port, on
 * 127.0.0.1), where `amime node-agent` redirects each service VIP:port: in the sidecar's reserved
 * range (the injector refuses app ports there), above the inbound listeners (15006, 15101…), so
 * no listener takes a port the app binds. The netns runtime's pool starts there too.
 */
export const POD_TCP_PORT_POOL: readonly number[] = Array.from({ length: 200 }, (_, i) => 15200 + i);

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
  const appPorts: Record<string, number> = {};
  const sidecar = (spec.containers ?? []).some((c) => c.name === PROXY_CONTAINER);
  // An injected pod: peers dial each app port's sidecar inbound listener (the numbering the
  // injector gave istio-init, inbound-ports.ts), which forwards to the app's own port.
  const inbound = sidecar ? inboundPorts(spec.containers as unknown as Json) : null;
  for (const c of spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if ((p.protocol ?? "TCP") !== "TCP") continue;
      const listener = inbound !== null && "ports" in inbound ? inbound.ports.get(p.containerPort) : undefined;
      if (listener !== undefined) {
        ports[String(p.containerPort)] = listener;
        appPorts[String(p.containerPort)] = p.containerPort;
        if (p.name) appPorts[p.name] = p.containerPort;
      }
      if (p.name) ports[p.name] = listener ?? p.containerPort;
    }
  }
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
  if (Object.keys(appPorts).length > 0) instance.appPorts = appPorts;
  if (sidecar) instance.sidecar = true;
  return instance;
}

/**
 * What the sidecar of an injected pod connects as (`sidecar~<pod>.<namespace>`, the injected
 * `--node`): the pod's instance, its outbound listener on Istio's capture port 15001, its
 * outbound TCP listeners on ports of POD_TCP_PORT_POOL. Null when
 * the node names no known pod with a sidecar.
 */
export function podRegistration(node: string, pod: WorkloadInstance | undefined, trustDomain: string): InstanceRegistration | null {
  if (pod === undefined || pod.sidecar !== true) return null;
  return {
    instance: pod,
    nodeId: node,
    node: { id: node, kind: "sidecar", workload: pod.workload ?? pod.name, namespace: pod.namespace, labels: pod.labels, serviceAccount: pod.serviceAccount, trustDomain, ip: pod.address },
    outboundPort: OUTBOUND_CAPTURE_PORT,
    tcpPortPool: [...POD_TCP_PORT_POOL],
  };
}

function workloadOf(owners: OwnerReference[] | undefined, labels: Record<string, string>): string | undefined {
  const owner = owners?.find((o) => o.controller) ?? owners?.[0];
  if (owner === undefined) return undefined;
  const hash = labels["pod-template-hash"];
  if (owner.kind === "ReplicaSet" && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  return owner.name;
}
