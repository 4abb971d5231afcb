// Where instance registrations go. `amime up` runs the control plane in-process and registers
// directly; the same calls exist over HTTP (PUT/DELETE /api/v1/instances/<ns>/<name>, wire.ts)
// for a runtime that runs apart from its control plane.
import type { InstanceRegistration } from "../../model/wire.ts";

export interface Registrar {
  put(reg: InstanceRegistration): Promise<void>;
  delete(namespace: string, name: string): Promise<void>;
}

/** The part of ControlPlane that registration needs. */
export interface RegistryBackend {
  register(namespace: string, name: string, reg: InstanceRegistration): boolean;
  deregister(namespace: string, name: string): boolean;
}

export function inProcessRegistrar(cp: RegistryBackend): Registrar {
  return {
    put: async (reg) => void cp.register(reg.instance.namespace, reg.instance.name, reg),
    delete: async (ns, name) => void cp.deregister(ns, name),
  };
}
