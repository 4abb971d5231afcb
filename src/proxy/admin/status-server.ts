// The status listener (Istio's status port 15021, pilot-agent's --statusPort): what others may
// read of the sidecar while the admin stays on 127.0.0.1. Read-only: GET and HEAD answer, any other
// method 405, any other path 404. Never on the request path; node:http is fine here.
//   GET /healthz/ready  200 "LIVE" once the proxy is ready (the same readiness as admin /ready), else 503
//   GET /listeners      the listeners' JSON rows, as admin /listeners (an Amime extension: the
//                       Kubernetes node agent reads each sidecar's outbound TCP listeners here)
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { http } from "../../core/builtins.ts";
import type { AdminStatsSource } from "./admin-views.ts";

const { createServer } = http;

/** What the status listener reads of the sidecar. */
export type StatusTarget = Pick<AdminStatsSource, "isReady" | "listenerStats">;

export class StatusServer {
  private readonly server: Server;
  port = 0;

  constructor(target: StatusTarget) {
    this.server = createServer((req, res) => {
      req.resume();
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/healthz/ready") {
        if (!readOnly(req, res)) return;
        const ready = target.isReady;
        return send(res, ready ? 200 : 503, "text/plain; charset=utf-8", ready ? "LIVE\n" : "NOT READY\n");
      }
      if (path === "/listeners") {
        if (!readOnly(req, res)) return;
        return send(res, 200, "application/json", `${JSON.stringify(target.listenerStats())}\n`);
      }
      send(res, 404, "text/plain; charset=utf-8", "not found: /healthz/ready /listeners\n");
    });
  }

  listen(port: number, host = "0.0.0.0"): Promise<number> {
    return listenOn(this.server, port, host).then((p) => (this.port = p));
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}

/** Stop listening and close every connection, idle or not. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Bind `server` on host:port; resolves with the bound port, rejects on a bind error. */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      const a = server.address();
      resolve(typeof a === "object" && a !== null ? a.port : port);
    });
  });
}

/** GET and HEAD pass; anything else is answered 405 with `allow` (true: go on). */
export function readOnly(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === "GET" || req.method === "HEAD") return true;
  res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8", "content-length": 19 });
  res.end("method not allowed\n");
  return false;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
