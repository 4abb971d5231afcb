// Admin listener (127.0.0.1 unless told otherwise, never on the request path): config dump, clusters with their
// endpoints and health, readiness, Envoy-style text stats, and drain. Served by small-http (no node:http).
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { clustersJson, statsText, type AdminStatsSource } from "./admin-views.ts";
import { SmallHttpServer, type SmallRequest, type SmallResponse } from "../small-http/index.ts";

/** What the admin endpoints read and drive of the sidecar. */
export interface AdminTarget extends AdminStatsSource {
  readonly config: ProxyConfig;
  readonly lastRejection: string | null;
  readonly telemetry: { prometheusText(): string } | null;
  drain(): Promise<void>;
}

export class AdminServer {
  private readonly sidecar: AdminTarget;
  private readonly server: SmallHttpServer;

  constructor(sidecar: AdminTarget) {
    this.sidecar = sidecar;
    this.server = new SmallHttpServer((req) => this.handle(req));
  }

  get port(): number {
    return this.server.port;
  }

  listen(port: number, host = "127.0.0.1"): Promise<number> {
    return this.server.listen(port, host);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(req: SmallRequest): SmallResponse {
    const s = this.sidecar;
    switch (req.path) {
      case "/ready":
        return text(s.isReady ? 200 : 503, s.isReady ? "LIVE\n" : "NOT READY\n");
      case "/config_dump":
        return json({ version: s.config.version, lastRejection: s.lastRejection, config: s.config });
      case "/clusters":
        return json(clustersJson(s));
      case "/stats":
        return text(200, statsText(s));
      case "/stats/prometheus":
        return text(200, s.telemetry?.prometheusText() ?? "");
      case "/listeners":
        return json(s.listenerStats());
      case "/drain":
      case "/drain_listeners":
        if (req.method !== "POST") return text(405, "use POST\n");
        void s.drain();
        return text(200, "OK\n");
      case "/":
        return text(200, "admin: /ready /config_dump /clusters /stats /listeners POST /drain\n");
      default:
        return text(404, "not found\n");
    }
  }
}

function text(status: number, body: string): SmallResponse {
  return { status, body };
}

function json(value: unknown): SmallResponse {
  return { status: 200, contentType: "application/json", body: JSON.stringify(value, null, 2) + "\n" };
}
