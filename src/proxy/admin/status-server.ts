// The status listener (Istio's status port 15021, pilot-agent's --statusPort): what others may
// read of the sidecar while the admin stays on 127.0.0.1. Read-only: GET and HEAD answer, any other
// method 405, any other path 404. Never on the request path; served by small-http (no node:http).
//   GET /healthz/ready  200 "LIVE" once the proxy is ready (the same readiness as admin /ready), else 503
//   GET /listeners      the listeners' JSON rows, as admin /listeners (an Amime extension: the
//                       Kubernetes node agent reads each sidecar's outbound TCP listeners here)
import { readOnly, SmallHttpServer, type SmallRequest, type SmallResponse } from "../small-http/index.ts";
import type { AdminStatsSource } from "./admin-views.ts";

/** What the status listener reads of the sidecar. */
export type StatusTarget = Pick<AdminStatsSource, "isReady" | "listenerStats">;

export class StatusServer {
  private readonly server: SmallHttpServer;
  private readonly target: StatusTarget;

  constructor(target: StatusTarget) {
    this.target = target;
    this.server = new SmallHttpServer((req) => this.handle(req));
  }

  get port(): number {
    return this.server.port;
  }

  listen(port: number, host = "0.0.0.0"): Promise<number> {
    return this.server.listen(port, host);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(req: SmallRequest): SmallResponse {
    if (req.path === "/healthz/ready") {
      const ready = this.target.isReady;
      return readOnly(req) ?? { status: ready ? 200 : 503, body: ready ? "LIVE\n" : "NOT READY\n" };
    }
    if (req.path === "/listeners") return readOnly(req) ?? { status: 200, contentType: "application/json", body: `${JSON.stringify(this.target.listenerStats())}\n` };
    return { status: 404, body: "not found: /healthz/ready /listeners\n" };
  }
}
