// Admin listener (127.0.0.1 unless told otherwise, never on the request path): config dump, clusters with their
// endpoints and health, readiness, Envoy-style text stats, and drain. node:http is fine here.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { clustersJson, statsText, type AdminStatsSource } from "./admin-views.ts";
import { http } from "../../core/builtins.ts";
import { closeServer, listenOn } from "./status-server.ts";

const { createServer } = http;

/** What the admin endpoints read and drive of the sidecar. */
export interface AdminTarget extends AdminStatsSource {
  readonly config: ProxyConfig;
  readonly lastRejection: string | null;
  readonly telemetry: { prometheusText(): string } | null;
  drain(): Promise<void>;
}

export class AdminServer {
  private readonly sidecar: AdminTarget;
  private readonly server: Server;
  port = 0;

  constructor(sidecar: AdminTarget) {
    this.sidecar = sidecar;
    this.server = createServer((req, res) => this.handle(req, res));
  }

  listen(port: number, host = "127.0.0.1"): Promise<number> {
    return listenOn(this.server, port, host).then((p) => (this.port = p));
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://admin");
    const s = this.sidecar;
    const method = req.method ?? "GET";
    req.resume();
    switch (url.pathname) {
      case "/ready":
        return send(res, s.isReady ? 200 : 503, s.isReady ? "LIVE\n" : "NOT READY\n");
      case "/config_dump":
        return json(res, { version: s.config.version, lastRejection: s.lastRejection, config: s.config });
      case "/clusters":
        return json(res, clustersJson(s));
      case "/stats":
        return send(res, 200, statsText(s));
      case "/stats/prometheus":
        return send(res, 200, s.telemetry?.prometheusText() ?? "");
      case "/listeners":
        return json(res, s.listenerStats());
      case "/drain":
      case "/drain_listeners":
        if (method !== "POST") return send(res, 405, "use POST\n");
        void s.drain();
        return send(res, 200, "OK\n");
      case "/":
        return send(res, 200, "admin: /ready /config_dump /clusters /stats /listeners POST /drain\n");
      default:
        return send(res, 404, "not found\n");
    }
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value, null, 2) + "\n";
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
