// Which local port of a sidecar's pool each outbound TCP service port was given (the local
// runtime's per-instance pool; docs/translation.md). Assignments are sticky: a port once given to a
// service keeps pointing at it (an app's env names it), even while the service is gone; new services
// take the next unused one. Kept per node while it is registered.
interface Assignment {
  /** The pool the ports came from (a new pool starts over). */
  readonly pool: string;
  readonly ports: Record<string, number>;
  warned: boolean;
}

export class TcpPortAssignments {
  private readonly byNode = new Map<string, Assignment>();

  /** The node's current assignments for `pool`, to hand translation (it adds new ones in its output). */
  current(node: string, pool: readonly number[]): Record<string, number> {
    const key = pool.join(",");
    let a = this.byNode.get(node);
    if (a === undefined || a.pool !== key) this.byNode.set(node, (a = { pool: key, ports: {}, warned: false }));
    return a.ports;
  }

  /**
   * Keep what translation assigned (`ports`: the outbound TCP ports of its listeners). Returns a
   * warning line the first time the pool is used up, else null.
   */
  record(node: string, pool: readonly number[], ports: Record<string, number>): string | null {
    const a = this.byNode.get(node);
    if (a === undefined) return null;
    Object.assign(a.ports, ports);
    if (a.warned || Object.keys(a.ports).length < pool.length) return null;
    a.warned = true;
    return `${node}: all ${pool.length} local ports set aside for outbound TCP services are in use; a further TCP service port gets no listener on this sidecar until it is registered again (restart \`amime up\`)`;
  }

  forget(node: string): void {
    this.byNode.delete(node);
  }
}
