// WebhookServer: the control plane's admission webhooks (istiod serves them on 15017 behind its
// Service's 443): POST /validate (validate-admission.ts) and POST /inject (inject/), over HTTPS
// with a certificate from the mesh CA naming the Service's DNS name (and the address tests dial);
// the webhook configurations carry the mesh root as caBundle. The Kubernetes API server is the
// caller and sends no credential (as with istiod): the endpoints only judge and patch the object
// they are given, change nothing, and read nothing else. GET /ready answers 200 once listening.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Clock } from "../../core/clock.ts";
import { HttpError, parseJson, readBody, sendJson } from "../../core/http-json.ts";
import { ServingCertificate, servingNames } from "../ca/serving-certificate.ts";
import type { SigningCA } from "../ca/signing-ca.ts";
import { AdmissionReviewError, readReview, reviewOf, type AdmissionRequest, type AdmissionResponse } from "./admission-review.ts";

/** Istio's webhook port on istiod (its Service maps 443 to it). */
export const DEFAULT_WEBHOOK_PORT = 15017;
/** The API server caps a request body at 3 MiB; an AdmissionReview carries the object twice at most. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export type AdmissionHandler = (req: AdmissionRequest) => AdmissionResponse;

export interface WebhookServerOptions {
  port: number;
  host: string;
  /** DNS names and addresses the API server dials (`amime.istio-system.svc`); the listen address and loopback are added. */
  names: readonly string[];
  ca: () => Promise<SigningCA>;
  clock: Clock;
  /** Path (`/validate`, `/inject`) → decision. */
  handlers: Readonly<Record<string, AdmissionHandler>>;
  log: (line: string) => void;
}

export class WebhookServer {
  readonly #server: Server;
  readonly #serving: ServingCertificate;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, serving: ServingCertificate) {
    this.#server = server;
    this.#serving = serving;
    server.on("connection", (s: Socket) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  static async listen(o: WebhookServerOptions): Promise<WebhookServer> {
    let server: Server | null = null;
    const serving = new ServingCertificate({
      ca: o.ca,
      names: servingNames(o.host, o.names),
      clock: o.clock,
      onRenewed: (m) => server?.setSecureContext({ cert: m.cert, key: m.key, minVersion: "TLSv1.2" }),
      log: o.log,
    });
    const material = await serving.start();
    server = createServer({ cert: material.cert, key: material.key, minVersion: "TLSv1.2" }, (req, res) => void handle(req, res, o));
    const out = new WebhookServer(server, serving);
    await new Promise<void>((resolve, reject) => {
      const s = server as Server;
      s.once("error", (e) => {
        serving.close();
        reject(e);
      });
      s.listen(o.port, o.host, () => {
        s.removeAllListeners("error");
        s.on("error", (e) => o.log(`webhook server: ${e.message}`));
        resolve();
      });
    });
    return out;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.#serving.close();
    return new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, o: WebhookServerOptions): Promise<void> {
  const path = new URL(req.url ?? "/", "https://webhook").pathname;
  if (req.method === "GET" && path === "/ready") return send(res, 200, "text/plain", "ok\n");
  const decide = Object.hasOwn(o.handlers, path) ? o.handlers[path] : undefined;
  if (decide === undefined) return send(res, 404, "text/plain", `no admission webhook at ${path}; served: ${Object.keys(o.handlers).join(", ")}\n`);
  if (req.method !== "POST") return send(res, 405, "text/plain", "POST an AdmissionReview\n");
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return send(res, 415, "text/plain", "Content-Type must be application/json\n");
  let body: unknown;
  try {
    body = parseJson(await readBody(req, MAX_BODY_BYTES));
  } catch (e) {
    return send(res, e instanceof HttpError ? e.status : 400, "text/plain", `cannot read the AdmissionReview: ${(e as Error).message}\n`);
  }
  let review: AdmissionRequest;
  try {
    review = readReview(body);
  } catch (e) {
    if (e instanceof AdmissionReviewError) return send(res, 400, "text/plain", `${e.message}\n`);
    throw e;
  }
  let answer: AdmissionResponse;
  try {
    answer = decide(review);
  } catch (e) {
    // A bug in a decision must not let a bad object through: deny, and say why.
    o.log(`webhook ${path}: ${review.kind.kind} ${review.namespace}: ${(e as Error).message}`);
    answer = { uid: review.uid, allowed: false, status: { message: `internal error in the Amime webhook ${path}: ${(e as Error).message}` } };
  }
  sendJson(res, 200, reviewOf(answer));
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
