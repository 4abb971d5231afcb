// Port allocation for the local mesh: every app, sidecar listener and gateway listener gets its
// own loopback port, handed out in order from `--port-base` and skipping ports something else
// already holds. A port is tested by binding it for a moment; the child binds it a little later,
// so another program could take it in between (the child then fails to bind and is restarted).
import { createServer } from "node:net";

export class PortAllocatorError extends Error {
  readonly code = "AMIME_PORTS_EXHAUSTED";
}

export class PortAllocator {
  private next: number;
  private readonly taken = new Set<number>();
  private readonly host: string;

  constructor(base: number, host = "127.0.0.1") {
    this.next = base;
    this.host = host;
  }

  /** The next free port at or above the cursor. */
  async allocate(): Promise<number> {
    while (this.next <= 65535) {
      const p = this.next++;
      if (this.taken.has(p)) continue;
      if (await canBind(p, this.host)) {
        this.taken.add(p);
        return p;
      }
    }
    throw new PortAllocatorError("no free local port left above the port base (try a lower --port-base)");
  }

  /** Take a specific port if it is free; false when it is not. */
  async claim(port: number): Promise<boolean> {
    if (this.taken.has(port) || !(await canBind(port, this.host))) return false;
    this.taken.add(port);
    return true;
  }

  get allocated(): readonly number[] {
    return [...this.taken];
  }
}

export function canBind(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    // exclusive: a port some cluster-mode server shares is still taken.
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}
