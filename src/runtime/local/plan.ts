// The plan: which instances `amime up` runs, named `<workload>-<i>`, from the Workload resources
// of the loaded config, with the ports each one gets. Pure: no processes, no sockets.
import { dirname, isAbsolute, resolve } from "node:path";
import type { Resource } from "../../model/resource.ts";
import { resolveWorkload, type ResolvedWorkload, type WorkloadSpec } from "../../model/specs/workload.ts";
import type { NodeInfo } from "../../model/proxy-config.ts";
import type { WorkloadInstance } from "../../model/registry.ts";
import type { InstanceRegistration } from "../../model/wire.ts";

export const LOCAL_ADDRESS = "127.0.0.1";

export interface InstancePlan {
  /** `reviews-v1-0` */
  name: string;
  workload: string;
  namespace: string;
  labels: Record<string, string>;
  spec: ResolvedWorkload;
  /** Absolute working directory (workingDir resolved against the declaring file's directory). */
  cwd: string;
  /** `Workload default/reviews-v1 (samples/bookinfo/mesh.yaml:12)` */
  origin: string;
  /** The Workload's metadata.annotations (the netns runtime reads Istio's capture annotations). */
  annotations: Record<string, string>;
  /** False for `sidecar.istio.io/inject: "false"`: the app runs alone, peers reach its own port. */
  sidecar: boolean;
}

/** Istio's injection annotation: `"false"` runs the workload without a sidecar. */
export const INJECT_ANNOTATION = "sidecar.istio.io/inject";

/** Ports of one instance: per declared containerPort, the app's own port and its sidecar's inbound port. */
export interface InstancePorts {
  app: Map<number, number>;
  inbound: Map<number, number>;
  outbound: number;
  admin: number;
  /** Set aside for the sidecar's outbound TCP listeners (InstanceRegistration.tcpPortPool). */
  tcpPool: number[];
}

export function isWorkload(r: Resource): boolean {
  return r.kind === "Workload" && r.group === "amime.dev";
}

export function planInstances(resources: readonly Resource[]): InstancePlan[] {
  const out: InstancePlan[] = [];
  for (const r of resources.filter(isWorkload)) {
    const spec = resolveWorkload((r.body.spec ?? {}) as WorkloadSpec);
    const baseDir = r.source.file ? dirname(resolve(r.source.file)) : process.cwd();
    const cwd = spec.workingDir === null ? baseDir : isAbsolute(spec.workingDir) ? spec.workingDir : resolve(baseDir, spec.workingDir);
    const namespace = r.metadata.namespace || "default";
    for (let i = 0; i < spec.replicas; i++) {
      out.push({
        name: `${r.metadata.name}-${i}`,
        workload: r.metadata.name,
        namespace,
        labels: { ...r.metadata.labels },
        annotations: { ...r.metadata.annotations },
        sidecar: r.metadata.annotations[INJECT_ANNOTATION] !== "false",
        spec,
        cwd,
        origin: `Workload ${namespace}/${r.metadata.name} (${r.source.file}:${r.source.line})`,
      });
    }
  }
  return out;
}

export function nodeId(kind: "sidecar" | "gateway", name: string, namespace: string): string {
  return `${kind}~${name}.${namespace}`;
}

/** `http` → `AMIME_PORT_HTTP`, `http-web` → `AMIME_PORT_HTTP_WEB`. */
export function portEnvName(name: string): string {
  return `AMIME_PORT_${name.toUpperCase().replace(/-/g, "_")}`;
}

/** The registry entry: peers dial the sidecar's inbound ports; the sidecar forwards to the app's. */
export function registryInstance(plan: InstancePlan, ports: InstancePorts, ready: boolean, address = LOCAL_ADDRESS): WorkloadInstance {
  const peer: Record<string, number> = {};
  const app: Record<string, number> = {};
  for (const p of plan.spec.ports) {
    const local = ports.app.get(p.containerPort);
    // Without a sidecar, peers dial the app itself (Istio: the pod's port, no inbound capture).
    const inbound = plan.sidecar ? ports.inbound.get(p.containerPort) : local;
    if (inbound === undefined || local === undefined) continue;
    peer[String(p.containerPort)] = inbound;
    app[String(p.containerPort)] = local;
    if (p.name) {
      peer[p.name] = inbound;
      app[p.name] = local;
    }
  }
  return {
    name: plan.name,
    workload: plan.workload,
    namespace: plan.namespace,
    labels: { ...plan.labels },
    serviceAccount: plan.spec.serviceAccount,
    address,
    ports: peer,
    ...(plan.sidecar ? { appPorts: app } : { sidecar: false }),
    ready,
  };
}

/** `address`: the instance's IP (127.0.0.1 in the local runtime, the pod's IP in the netns runtime). */
export function registration(plan: InstancePlan, ports: InstancePorts, ready: boolean, address = LOCAL_ADDRESS): InstanceRegistration {
  const id = nodeId("sidecar", plan.name, plan.namespace);
  const node: NodeInfo = {
    id,
    kind: "sidecar",
    workload: plan.workload,
    namespace: plan.namespace,
    labels: { ...plan.labels },
    serviceAccount: plan.spec.serviceAccount,
    trustDomain: "cluster.local",
    ip: address,
  };
  return { instance: registryInstance(plan, ports, ready, address), nodeId: id, node, outboundPort: ports.outbound, ...(ports.tcpPool.length > 0 ? { tcpPortPool: [...ports.tcpPool] } : {}) };
}
