// ApiServer: the control plane's one listener, the API and the push stream, over TLS only (the
// certificate comes from the mesh CA, ca/serving-certificate.ts). Every request passes the
// RequestGate before any handler; a client that speaks plaintext gets no HTTP answer (the TLS
// handshake fails). A client certificate is asked for, never required: one that chains to the
// mesh roots authenticates a workload's certificate renewal (the gate decides what it may do).
// See docs/control-plane.md, "Transport".
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { sendRefusal, type GateRequest, type GateResult, type GateVerdict, type PeerConnection } from "../auth/gate.ts";
import type { Principal } from "../auth/token.ts";

export interface ApiServerOptions {
  port: number;
  host: string;
  cert: string;
  key: string;
  /** The mesh roots client certificates are verified against (PEM). */
  ca: string;
  gate: { check(req: GateRequest, peer: PeerConnection): GateResult };
  handle: (req: IncomingMessage, res: ServerResponse, principal: Principal | null) => void;
}

export class ApiServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
    server.on("connection", (s: Socket) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  static async listen(o: ApiServerOptions): Promise<ApiServer> {
    const server = createServer({ ...secureOptions(o.cert, o.key, o.ca), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const path = new URL(req.url ?? "/", "https://control-plane").pathname;
      const verdict = o.gate.check({ method: req.method ?? "GET", path, headers: req.headers }, req.socket as TLSSocket);
      const decide = (v: GateVerdict): void => ("refusal" in v ? sendRefusal(res, v.refusal, req.method ?? "GET", path) : o.handle(req, res, v.principal));
      // A Kubernetes token waits for the API server's review; the request body waits unread meanwhile.
      if ("review" in verdict) void verdict.review.then(decide, (e: unknown) => res.destroy(e as Error));
      else decide(verdict);
    });
    // Translation at large scale holds the event loop for seconds per proxy (see docs/performance.md);
    // a burst of connecting proxies must not be dropped as "slow headers" meanwhile (default 60 s).
    server.headersTimeout = 300_000;
    server.requestTimeout = 0;
    const api = new ApiServer(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(o.port, o.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return api;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** A renewed serving certificate or a new trust bundle: new connections get it, open ones keep theirs. */
  setCertificate(cert: string, key: string, ca: string): void {
    this.#server.setSecureContext(secureOptions(cert, key, ca));
  }

  /** Stop listening and end every connection (push streams included). */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
  }
}

function secureOptions(cert: string, key: string, ca: string): { cert: string; key: string; ca: string; minVersion: "TLSv1.2" } {
  return { cert, key, ca, minVersion: "TLSv1.2" };
}
