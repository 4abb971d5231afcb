// The control plane's HTTP surface (contract: src/model/wire.ts) on node:http: the push stream and
// ACKs for sidecars, instance registration for the runtime, apply/delete/get/status for the CLI.
// Handlers only translate between HTTP and the ControlPlane's methods; the logic lives there.
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, parseJson, readBody, sendJson } from "../../core/http-json.ts";
import { MAX_SOURCE_BYTES } from "../../config/parse.ts";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import type { AckMessage, ApplyResult, CertificateRequest, CertificateResponse, Revocation, SecretStatus, ControlPlaneStatus, InstanceRegistration, ProxyStatus, ResourceList } from "../../model/wire.ts";
import { mayActAs, principalName, type Principal, type ProxyPrincipal, type WorkloadPrincipal } from "../auth/token.ts";
import { RevocationError } from "../ca/revocations.ts";
import { RotationError, type RotationReport } from "../ca/root-rotation.ts";
import { CaError } from "../ca/signing-ca.ts";
import type { PushSink } from "../push/pusher.ts";
import { CONFLICT_CODE } from "../store/config-store.ts";
import { RegistrationError } from "../registry/instance-registry.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";

/** What the handlers need from the control plane. */
export interface ApiBackend {
  apply(text: string, source: string, by?: string): Promise<ApplyResult>;
  delete(text: string, source: string, by?: string): Promise<ApplyResult>;
  register(namespace: string, name: string, reg: InstanceRegistration): boolean;
  /** A credential for one sidecar or gateway process (what the runtime hands each instance). */
  mintProxyToken(p: { node: string; namespace: string; serviceAccount: string }, by: string): string;
  deregister(namespace: string, name: string): boolean;
  resources(filter: { kind?: string; namespace?: string; name?: string }): ResourceList;
  proxies(): ProxyStatus[];
  proxyConfig(node: string): ProxyConfig | null;
  issueCertificate(p: ProxyPrincipal, req: CertificateRequest): Promise<CertificateResponse>;
  /** A renewal authenticated by the workload's current certificate. */
  renewCertificate(w: WorkloadPrincipal, req: CertificateRequest): Promise<CertificateResponse>;
  secret(node: string): SecretStatus | null;
  revocations(): Promise<readonly Revocation[]>;
  revoke(target: { serial?: string; identity?: string }, by: string): Promise<boolean>;
  unrevoke(target: { serial?: string; identity?: string }, by: string): Promise<boolean>;
  rotateRoot(by: string): Promise<RotationReport>;
  status(): ControlPlaneStatus;
  /** Prometheus text of the control plane's own metrics (api/metrics.ts). */
  metrics(): string;
  openStream(node: string, sink: PushSink, opts?: { delta?: boolean }): void;
  closeStream(node: string, sink: PushSink): void;
  ack(msg: AckMessage): boolean;
  /** The service account of a cluster pod the control plane knows (--platform kubernetes). */
  podAccount(namespace: string, name: string): string | undefined;
}


/** `principal` is who the request gate authenticated (null only on its public paths). */
export function createApiHandler(cp: ApiBackend): (req: IncomingMessage, res: ServerResponse, principal: Principal | null) => void {
  return (req, res, principal) => {
    handle(cp, req, res, principal).catch((e: unknown) => {
      const status = e instanceof HttpError || e instanceof CaError || e instanceof RevocationError || e instanceof RotationError ? e.status : e instanceof RegistrationError ? 400 : 500;
      if (!res.headersSent) sendJson(res, status, { error: (e as Error).message, ...(e instanceof CaError || e instanceof RotationError ? { code: e.code } : {}) });
      else res.destroy();
    });
  };
}

async function handle(cp: ApiBackend, req: IncomingMessage, res: ServerResponse, principal: Principal | null): Promise<void> {
  const url = new URL(req.url ?? "/", "http://control-plane");
  const path = url.pathname;
  const method = req.method ?? "GET";
  const parts = path.split("/").filter((s) => s !== "").map(decodeURIComponent);

  if (path === "/xds/v1/stream" && method === "GET") return stream(cp, url, req, res, principal);
  if (path === "/xds/v1/ack" && method === "POST") {
    const msg = parseJson(await readBody(req, MAX_SOURCE_BYTES)) as AckMessage;
    if (typeof msg !== "object" || msg === null || typeof msg.node !== "string" || typeof msg.nonce !== "string" || typeof msg.accepted !== "boolean") {
      throw new HttpError(400, "body must be an AckMessage {node, version, nonce, accepted, error?}");
    }
    ownNode(cp, principal, msg.node);
    return sendJson(res, 200, { counted: cp.ack(msg) });
  }
  if (path === "/ca/v1/certificates" && method === "POST") {
    if (principal?.kind === "workload") return sendJson(res, 200, await cp.renewCertificate(principal, parseJson(await readBody(req, MAX_SOURCE_BYTES)) as CertificateRequest));
    if (principal?.kind !== "proxy") throw new HttpError(403, "a workload certificate is issued only to a proxy's own credential, or renewed by its current certificate");
    return sendJson(res, 200, await cp.issueCertificate(principal, parseJson(await readBody(req, MAX_SOURCE_BYTES)) as CertificateRequest));
  }
  const by = principal ? principalName(principal) : "anonymous";
  if (parts[0] === "api" && parts[1] === "v1") {
    const [, , what, a, b, c] = parts;
    if (what === "instances" && a !== undefined && b !== undefined && c === undefined) {
      if (method === "PUT") return sendJson(res, 200, { changed: cp.register(a, b, parseJson(await readBody(req, MAX_SOURCE_BYTES)) as InstanceRegistration) });
      if (method === "DELETE") return cp.deregister(a, b) ? sendJson(res, 200, { deleted: true }) : sendJson(res, 404, { error: `no instance ${a}/${b}` });
      throw new HttpError(405, `${method} not allowed on ${path}`);
    }
    if ((what === "apply" || what === "delete") && a === undefined) {
      if (method !== "POST") throw new HttpError(405, `${method} not allowed on ${path}`);
      const text = await readBody(req, MAX_SOURCE_BYTES);
      const source = headerValue(req, "x-amime-source") || what;
      const result = what === "apply" ? await cp.apply(text, source, by) : await cp.delete(text, source, by);
      // 409 Conflict (a stale metadata.resourceVersion) as the Kubernetes API answers; other refusals 422.
      return sendJson(res, result.applied ? 200 : result.diagnostics.some((d) => d.code === CONFLICT_CODE) ? 409 : 422, result);
    }
    if (what === "ca" && a === "rotate-root" && b === undefined && method === "POST") return sendJson(res, 200, await cp.rotateRoot(by));
    if (what === "ca" && a === "revocations" && b === undefined) {
      if (method === "GET") return sendJson(res, 200, await cp.revocations());
      if (method !== "POST" && method !== "DELETE") throw new HttpError(405, `${method} not allowed on ${path}`);
      const target = parseJson(await readBody(req, MAX_SOURCE_BYTES)) as { serial?: string; identity?: string };
      if (typeof target !== "object" || target === null) throw new HttpError(400, "body must be {serial} or {identity}");
      const changed = method === "POST" ? await cp.revoke(target, by) : await cp.unrevoke(target, by);
      return sendJson(res, 200, { changed, revocations: await cp.revocations() });
    }
    if (what === "credentials" && a === undefined) {
      if (method !== "POST") throw new HttpError(405, `${method} not allowed on ${path}`);
      const body = parseJson(await readBody(req, MAX_SOURCE_BYTES)) as Record<string, unknown>;
      const str = (k: string): string => {
        const v = typeof body === "object" && body !== null ? body[k] : undefined;
        if (typeof v !== "string" || v === "") throw new HttpError(400, "body must be {node, namespace, serviceAccount} (non-empty strings)");
        return v;
      };
      const token = cp.mintProxyToken({ node: str("node"), namespace: str("namespace"), serviceAccount: str("serviceAccount") }, by);
      return sendJson(res, 200, { token });
    }
    if (method !== "GET") throw new HttpError(405, `${method} not allowed on ${path}`);
    if (what === "resources" && a === undefined) {
      const filter = { kind: url.searchParams.get("kind") ?? undefined, namespace: url.searchParams.get("namespace") ?? undefined, name: url.searchParams.get("name") ?? undefined };
      return sendJson(res, 200, cp.resources(filter));
    }
    if (what === "proxies" && a === undefined) return sendJson(res, 200, cp.proxies());
    if (what === "proxies" && a !== undefined && b === "secret" && c === undefined) {
      const secret = cp.secret(a);
      return secret ? sendJson(res, 200, secret) : sendJson(res, 404, { error: `no certificate issued to ${a} yet` });
    }
    if (what === "proxies" && a !== undefined && b === "config" && c === undefined) {
      const cfg = cp.proxyConfig(a);
      return cfg ? sendJson(res, 200, cfg) : sendJson(res, 404, { error: `nothing pushed to ${a} yet` });
    }
    if (what === "status" && a === undefined) return sendJson(res, 200, cp.status());
  }
  if ((path === "/healthz" || path === "/ready") && method === "GET") return sendJson(res, 200, { ok: true });
  if (path === "/metrics" && method === "GET") {
    res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE });
    res.end(cp.metrics());
    return;
  }
  throw new HttpError(404, `no such endpoint: ${method} ${path}`);
}

/** A proxy credential speaks only for its own node: no one takes over another proxy's stream. */
function ownNode(cp: ApiBackend, principal: Principal | null, node: string): void {
  const why = principal?.kind === "proxy" ? mayActAs(principal, node, (ns, name) => cp.podAccount(ns, name)) : "";
  if (why !== null) throw new HttpError(403, `this credential may not act as node ${JSON.stringify(node)}${why ? ` (${why})` : ""}`);
}

function stream(cp: ApiBackend, url: URL, req: IncomingMessage, res: ServerResponse, principal: Principal | null): void {
  const node = url.searchParams.get("node");
  if (!node) throw new HttpError(400, "missing ?node=<node id>");
  ownNode(cp, principal, node);
  req.socket.setNoDelay(true);
  req.socket.setKeepAlive(true, 10_000);
  res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
  res.flushHeaders();
  const sink: PushSink = {
    write: (line) => void res.write(line),
    close: () => res.end(),
  };
  res.on("close", () => cp.closeStream(node, sink));
  cp.openStream(node, sink, { delta: url.searchParams.get("delta") === "1" });
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}



