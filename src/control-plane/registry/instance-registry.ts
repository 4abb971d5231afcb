// Registry: the workload instances the runtime registers (PUT /api/v1/instances/<ns>/<name>), each
// with the node id and outbound port of its sidecar. Feeds the snapshot (instances → endpoints)
// and tells the push stage which proxy input belongs to a connecting node.
import type { Registry, WorkloadInstance } from "../../model/registry.ts";
import type { InstanceRegistration } from "../../model/wire.ts";

/** A registration the registry refuses (layer: control-plane registry). */
export class RegistrationError extends Error {
  readonly code = "CP_BAD_REGISTRATION";
  constructor(message: string) {
    super(message);
    this.name = "RegistrationError";
  }
}

export class InstanceRegistry {
  private readonly byKey = new Map<string, InstanceRegistration>();
  private readonly byNode = new Map<string, InstanceRegistration>();
  private cached: Registry | null = null;

  /** Insert or replace; returns false when the registration is identical to the stored one. */
  put(namespace: string, name: string, reg: InstanceRegistration): boolean {
    checkRegistration(namespace, name, reg);
    const key = `${namespace}/${name}`;
    const old = this.byKey.get(key);
    if (old && JSON.stringify(old) === JSON.stringify(reg)) return false;
    if (old) this.byNode.delete(old.nodeId);
    const stored = structuredClone(reg);
    this.byKey.set(key, stored);
    this.byNode.set(stored.nodeId, stored);
    this.cached = null;
    return true;
  }

  /** Returns false when there was nothing to delete. */
  delete(namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`;
    const old = this.byKey.get(key);
    if (!old) return false;
    this.byKey.delete(key);
    if (this.byNode.get(old.nodeId) === old) this.byNode.delete(old.nodeId);
    this.cached = null;
    return true;
  }

  forNode(nodeId: string): InstanceRegistration | undefined {
    return this.byNode.get(nodeId);
  }

  get size(): number {
    return this.byKey.size;
  }

  list(): InstanceRegistration[] {
    return [...this.byKey.values()];
  }

  /** The registry as the snapshot builder reads it (services come from config, not from here). */
  registry(): Registry {
    if (!this.cached) {
      // The sidecar's NodeInfo names the workload; an instance registered without one is a replica of it.
      // A registration by a sidecar (not a gateway) marks the instance as one that takes mesh mTLS,
      // unless the runtime says it runs without one (sidecar.istio.io/inject: "false").
      const instances: WorkloadInstance[] = [...this.byKey.values()].map((r) => ({
        ...r.instance,
        ...(!r.instance.workload && r.node.workload ? { workload: r.node.workload } : {}),
        ...(r.node.kind === "sidecar" && r.instance.sidecar !== false ? { sidecar: true } : {}),
      }));
      this.cached = { services: [], instances };
    }
    return this.cached;
  }
}

function checkRegistration(namespace: string, name: string, reg: InstanceRegistration): void {
  const r = reg as Partial<InstanceRegistration> | null;
  if (typeof r !== "object" || r === null) throw new RegistrationError("body must be an InstanceRegistration object");
  const inst = r.instance;
  if (typeof inst !== "object" || inst === null) throw new RegistrationError("instance: must be an object");
  if (inst.name !== name || (inst.namespace || "default") !== namespace) {
    throw new RegistrationError(`instance ${inst.namespace}/${inst.name} does not match the path ${namespace}/${name}`);
  }
  if (typeof inst.address !== "string" || inst.address === "") throw new RegistrationError("instance.address: must be a non-empty string");
  if (typeof inst.labels !== "object" || inst.labels === null) throw new RegistrationError("instance.labels: must be an object");
  if (typeof inst.ready !== "boolean") throw new RegistrationError("instance.ready: must be a boolean");
  if (typeof r.nodeId !== "string" || r.nodeId === "") throw new RegistrationError("nodeId: must be a non-empty string");
  if (typeof r.node !== "object" || r.node === null || (r.node.kind !== "sidecar" && r.node.kind !== "gateway")) {
    throw new RegistrationError('node: must be a NodeInfo with kind "sidecar" or "gateway"');
  }
  if (typeof r.outboundPort !== "number" || !Number.isInteger(r.outboundPort) || r.outboundPort < 0 || r.outboundPort > 65535) {
    throw new RegistrationError("outboundPort: must be an integer 0..65535");
  }
  if (r.tcpPortPool !== undefined && (!Array.isArray(r.tcpPortPool) || !r.tcpPortPool.every((p) => Number.isInteger(p) && p > 0 && p <= 65535))) {
    throw new RegistrationError("tcpPortPool: must be a list of ports 1..65535");
  }
}

/** `sidecar~reviews-v1-0.default` → name and namespace. */
export function parseNodeId(node: string): { name: string; namespace: string } {
  const rest = node.slice(node.indexOf("~") + 1);
  const dot = rest.lastIndexOf(".");
  return dot > 0 ? { name: rest.slice(0, dot), namespace: rest.slice(dot + 1) } : { name: rest, namespace: "default" };
}
