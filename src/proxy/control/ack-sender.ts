// The sidecar's ACK / NACK of each pushed config (PushClient): POST /xds/v1/ack to the control-plane
// replica the config came from, over TLS (verified against the mesh roots) for an https URL.
import type { Agent, ClientRequest, RequestOptions } from "node:http";
import type { Clock } from "../../core/clock.ts";
import type { AckMessage } from "../../model/wire.ts";
import { httpModule, httpsModule } from "../../core/builtins.ts";
import { controlPlaneContext } from "./control-plane-context.ts";

export interface AckSenderOptions {
  clock: Clock;
  /** The mesh root(s) the control plane's certificate must chain to, now. */
  ca: () => string | undefined;
  /** The credential headers, now (the stream's). */
  auth: () => Record<string, string>;
}

export class AckSender {
  private readonly opts: AckSenderOptions;
  private closed = false;
  /** Per control-plane replica: one keep-alive agent (a TLS handshake per ACK cost the control plane a full handshake per proxy per push). */
  private readonly agents = new Map<string, Agent>();

  constructor(opts: AckSenderOptions) {
    this.opts = opts;
  }

  /**
   * POST the verdict, on a kept-alive connection to that replica. A failed POST is retried a few
   * times: until the control plane has it, that proxy shows STALE. If the stream is lost as well,
   * the resync on reconnect asks again anyway. A kept connection the server closed just as the ACK
   * went out (its idle timeout) fails with a reset: that ACK is sent again at once, as a new request.
   */
  send(ack: AckMessage, to: string, attempt = 0): void {
    if (this.closed) return;
    const body = JSON.stringify(ack);
    const url = new URL("/xds/v1/ack", to);
    const req = this.request(url, {
      method: "POST",
      agent: this.agent(url),
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...this.opts.auth() },
    });
    const retry = (): void => {
      if (attempt < 3) this.opts.clock.setTimeout(() => this.send(ack, to, attempt + 1), 200 * (attempt + 1));
    };
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (req.reusedSocket && e.code === "ECONNRESET" && attempt < 3) this.send(ack, to, attempt + 1);
      else retry();
    });
    req.on("response", (res) => {
      res.resume();
      if ((res.statusCode ?? 500) >= 500) retry();
    });
    req.end(body);
  }

  close(): void {
    this.closed = true;
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  private agent(url: URL): Agent {
    let a = this.agents.get(url.origin);
    if (a === undefined) {
      // The request's own options (ca, client credentials) are part of the pool key, so a rotated root opens a new connection.
      const opts = { keepAlive: true, maxFreeSockets: 1 };
      a = url.protocol === "https:" ? new (httpsModule().Agent)(opts) : new (httpModule().Agent)(opts);
      this.agents.set(url.origin, a);
    }
    return a;
  }

  /**
   * Over TLS (verified against the mesh root, in the context the stream shares) for an https URL;
   * plaintext only for an http one. `ca` stays in the options: the agent's pool key is made of them
   * (not of the context), so a rotated root still opens a new connection.
   */
  private request(url: URL, o: RequestOptions): ClientRequest {
    const ca = this.opts.ca();
    return url.protocol === "https:" ? httpsModule().request(url, { ...o, ...(ca !== undefined ? { ca, secureContext: controlPlaneContext(ca) } : {}) }) : httpModule().request(url, o);
  }
}
