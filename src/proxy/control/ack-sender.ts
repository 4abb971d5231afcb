// The sidecar's ACK / NACK of each pushed config (PushClient): POST /xds/v1/ack to the control-plane
// replica the config came from, over TLS (verified against the mesh roots) for an https URL. Sent by
// the proxy's own client (small-http: no node:http in a pushed sidecar either, issue 15).
import type { Clock } from "../../core/clock.ts";
import type { AckMessage } from "../../model/wire.ts";
import { SmallHttpClient, SmallHttpError } from "../small-http/index.ts";
import { controlPlaneContext } from "./control-plane-context.ts";

export interface AckSenderOptions {
  clock: Clock;
  /** The mesh root(s) the control plane's certificate must chain to, now. */
  ca: () => string | undefined;
  /** The credential headers, now (the stream's). */
  auth: () => Record<string, string>;
}

/** An ACK is small and the control plane answers at once: a bound for a stuck connection. */
const ACK_TIMEOUT_MS = 10_000;

export class AckSender {
  private readonly opts: AckSenderOptions;
  private closed = false;
  /** One kept-alive connection per control-plane replica and root (a TLS handshake per ACK cost the control plane a full handshake per proxy per push). */
  private readonly http: SmallHttpClient;

  constructor(opts: AckSenderOptions) {
    this.opts = opts;
    this.http = new SmallHttpClient(opts.clock);
  }

  /**
   * POST the verdict, on a kept-alive connection to that replica. A failed POST is retried a few
   * times: until the control plane has it, that proxy shows STALE. If the stream is lost as well,
   * the resync on reconnect asks again anyway. A kept connection the server closed just as the ACK
   * went out (its idle timeout) fails before any answer: that ACK is sent again at once, as a new request.
   */
  send(ack: AckMessage, to: string, attempt = 0): void {
    if (this.closed) return;
    const url = new URL("/xds/v1/ack", to);
    const ca = this.opts.ca();
    // The root is part of the pool key: a rotated root opens a new connection.
    const tls = url.protocol === "https:" && ca !== undefined ? { secureContext: controlPlaneContext(ca) } : {};
    const retry = (): void => {
      if (attempt < 3) this.opts.clock.setTimeout(() => this.send(ack, to, attempt + 1), 200 * (attempt + 1));
    };
    this.http.request(url, { method: "POST", headers: { "content-type": "application/json", ...this.opts.auth() }, body: JSON.stringify(ack), timeoutMs: ACK_TIMEOUT_MS, tls, poolKey: ca ?? "" }).then(
      (res) => {
        if (res.status >= 500) retry();
      },
      (e: unknown) => {
        if (this.closed) return;
        if (e instanceof SmallHttpError && e.reused && attempt < 3) this.send(ack, to, attempt + 1);
        else retry();
      },
    );
  }

  close(): void {
    this.closed = true;
    this.http.close();
  }
}
