// DashboardForwarder: a plain-HTTP door to the dashboard on loopback, as `istioctl dashboard`
// port-forwards to Kiali. The control plane serves only https with a certificate from the mesh CA,
// which no browser trusts until the user imports .amime/root-cert.pem; the forwarder listens on
// 127.0.0.1 only and forwards every request to the control plane over TLS verified against the
// mesh root, so the browser talks to http://127.0.0.1:PORT/ without a warning.
// It adds no credential: the browser still signs in (a login code or the admin token) and sends
// its session cookie. It keeps the control plane's same-site guards meaningful on its own origin:
// the Host must be 127.0.0.1:PORT or localhost:PORT (DNS rebinding), an Origin must be that same
// http origin (CSRF); Sec-Fetch-Site goes through to the control plane's check. The session
// cookie loses its `Secure` attribute on the way back (a browser keeps no Secure cookie from
// plain http), keeping HttpOnly and SameSite=Strict. See docs/dashboard.md "Signing in".
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";

export interface ForwarderOptions {
  /** The control plane's https URL. */
  target: string;
  /**
   * PEM of the mesh root(s) the control plane's certificate must chain to, read on every request
   * (a root rotation changes it: `amime ca rotate-root` reissues the control plane's certificate).
   */
  ca: () => string;
  /** Loopback port to listen on; 0 (default) takes a free one. */
  port?: number;
}

/** Headers that belong to one connection, not to the request (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

export class DashboardForwarder {
  readonly #target: URL;
  readonly #ca: () => string;
  #agent: Agent;
  #agentCa: string;
  readonly #server: Server;
  readonly #wanted: number;
  #port = 0;

  private constructor(o: ForwarderOptions) {
    this.#target = new URL(o.target);
    if (this.#target.protocol !== "https:") throw new Error(`the dashboard forwarder needs the control plane's https URL, got ${o.target}`);
    this.#ca = o.ca;
    this.#agentCa = o.ca();
    this.#agent = new Agent({ keepAlive: true, ca: this.#agentCa });
    this.#wanted = o.port ?? 0;
    this.#server = createServer((req, res) => this.#forward(req, res));
  }

  static async start(o: ForwarderOptions): Promise<DashboardForwarder> {
    const f = new DashboardForwarder(o);
    await new Promise<void>((resolve, reject) => {
      f.#server.once("error", reject);
      f.#server.listen(f.#wanted, "127.0.0.1", () => {
        f.#server.off("error", reject);
        resolve();
      });
    });
    f.#port = (f.#server.address() as AddressInfo).port;
    return f;
  }

  get port(): number {
    return this.#port;
  }

  /** The forwarder's own origin, `http://127.0.0.1:PORT`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    this.#agent.destroy();
  }

  /** The agent for the current roots; a new one (and its connections closed) when they changed. */
  #agentNow(): Agent {
    const ca = this.#ca();
    if (ca !== this.#agentCa) {
      // Open streams end with the old connections; the dashboard's event stream reconnects.
      this.#agent.destroy();
      this.#agent = new Agent({ keepAlive: true, ca });
      this.#agentCa = ca;
    }
    return this.#agent;
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const host = req.headers.host;
    if (host !== `127.0.0.1:${this.#port}` && host !== `localhost:${this.#port}`) {
      return refuse(res, 403, "CP_FOREIGN_HOST", `Host ${JSON.stringify(host ?? "")} is not this dashboard forwarder's address (127.0.0.1:${this.#port} or localhost:${this.#port}); refused (DNS rebinding guard)`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) {
      return refuse(res, 403, "CP_CROSS_SITE", `cross-site request from Origin ${JSON.stringify(origin)} refused`);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers.host = this.#target.host;
    // The browser's origin was checked above; to the control plane the request is its own origin's.
    if (origin !== undefined) headers.origin = this.#target.origin;
    const up = httpsRequest({ protocol: "https:", hostname: this.#target.hostname, port: this.#target.port || 443, method: req.method, path: req.url, headers, agent: this.#agentNow() }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      const cookies = answer.headers["set-cookie"];
      if (cookies !== undefined) out["set-cookie"] = cookies.map(withoutSecure);
      const location = answer.headers.location;
      if (location !== undefined && location.startsWith(this.#target.origin)) out.location = location.slice(this.#target.origin.length) || "/";
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    up.on("error", (e: Error & { code?: string }) => {
      if (res.headersSent) return void res.destroy();
      refuse(res, 502, "CP_UNREACHABLE", `the dashboard forwarder cannot reach the control plane at ${this.#target.origin}: ${e.code ?? e.message}`);
    });
    // A browser that goes away (a closed tab's event stream) ends the forwarded request too.
    res.on("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }
}

/** A Set-Cookie value without its `Secure` attribute. */
export function withoutSecure(cookie: string): string {
  return cookie.split(";").filter((part, i) => i === 0 || part.trim().toLowerCase() !== "secure").join(";");
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: message, code });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
