// What both runtimes' meshes (LocalMesh, NetnsMesh) do with the processes they started: wait until
// they are ready, and keep the state file (state-file.ts) current — one record per instance, the
// file written whole on every change, one write at a time, nothing written once the mesh stops.
import type { IngressGateway } from "./gateway.ts";
import type { InstanceSupervisor } from "./instance.ts";
import { writeState, type UpState, type UpStateInstance } from "./state-file.ts";

/** Resolves when every instance is ready, or after timeoutMs; returns the ones still not ready. */
export async function waitUntilReady(instances: readonly InstanceSupervisor[], gateway: IngressGateway | null, timeoutMs: number): Promise<InstanceSupervisor[]> {
  await Promise.all(instances.map((i) => i.waitReady(timeoutMs)));
  const deadline = performance.now() + Math.min(timeoutMs, 10_000);
  while (gateway && !gateway.ready && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return instances.filter((i) => !i.ready);
}

/** An instance as the state file lists it: its ports as the other commands reach them, its processes. */
export function instanceState(i: InstanceSupervisor): UpStateInstance {
  const first = i.plan.spec.ports[0];
  return {
    name: i.plan.name,
    namespace: i.plan.namespace,
    workload: i.plan.workload,
    serviceAccount: i.plan.spec.serviceAccount,
    appPort: first ? (i.ports.app.get(first.containerPort) ?? null) : null,
    outboundPort: i.ports.outbound,
    inboundPort: first ? ((i.plan.sidecar ? i.ports.inbound : i.ports.app).get(first.containerPort) ?? null) : null,
    ...(i.plan.sidecar ? {} : { sidecar: false }),
    adminPort: i.ports.admin,
    pid: i.appPid,
    sidecarPid: i.sidecarPid,
  };
}

/** Writes a mesh's state file; writes are chained: several processes starting at once must not interleave one file. */
export class StateWriter {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly dir: string;
  private readonly state: () => UpState;

  constructor(dir: string, state: () => UpState) {
    this.dir = dir;
    this.state = state;
  }

  save(): Promise<void> {
    this.chain = this.chain.then(() => (this.closed ? undefined : writeState(this.dir, this.state()).catch(() => {})));
    return this.chain;
  }

  /** The mesh stops: a write not yet begun is dropped; resolves when the one under way ended. */
  close(): Promise<void> {
    this.closed = true;
    return this.chain;
  }
}
