// ControlPlaneClient: the CLI's side of the control plane's HTTP API (src/model/wire.ts), over
// HTTPS verified against the mesh root (root-cert.ts). One method per endpoint; transport
// failures and unexpected answers become ControlPlaneError with a stable code and a message a
// user can act on.
import type { IncomingMessage } from "node:http";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import type { ApplyResult, ControlPlaneStatus, ProxyStatus, ResourceList, Revocation, SecretStatus } from "../../model/wire.ts";
import type { Credential } from "./credential.ts";
import type { RootCert } from "./root-cert.ts";
import { httpsModule, httpModule } from "../../core/builtins.ts";


export type ControlPlaneErrorCode = "CP_UNREACHABLE" | "CP_TIMEOUT" | "CP_HTTP" | "CP_NOT_FOUND" | "CP_BAD_RESPONSE";

export class ControlPlaneError extends Error {
  readonly code: ControlPlaneErrorCode;
  /** HTTP status for CP_HTTP / CP_NOT_FOUND. */
  readonly status: number | undefined;
  constructor(code: ControlPlaneErrorCode, message: string, status?: number) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export interface ResourceQuery {
  kind?: string;
  namespace?: string;
  name?: string;
}

export interface ClientOptions {
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** How the address was found, appended to "cannot reach" errors. */
  from?: string;
  /** The admin credential, sent as a Bearer token (credential.ts). */
  credential?: Credential;
  /** The mesh root(s) the control plane's certificate must chain to (root-cert.ts). */
  rootCert?: RootCert;
  /**
   * Through a Kubernetes API server's service proxy (kube-control-plane.ts): the TLS settings for
   * the API server and the headers it needs (its own Authorization; the admin credential then
   * travels as X-Amime-Token, as the API server removes Authorization before proxying).
   */
  through?: { tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean }; headers: Record<string, string> };
}

/** The part of an answer the commands read. */
interface Answer {
  status: number;
  ok: boolean;
  text: () => Promise<string>;
}

export class ControlPlaneClient {
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #from: string | undefined;
  readonly #credential: Credential | undefined;
  readonly #rootCert: RootCert | undefined;
  readonly #through: ClientOptions["through"];

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#from = options.from;
    this.#credential = options.credential;
    this.#rootCert = options.rootCert;
    this.#through = options.through;
  }

  /** The mesh root this client verifies the control plane with; undefined when none was found. */
  get rootCert(): RootCert | undefined {
    return this.#rootCert;
  }

  /** POST /api/v1/apply. A refusal (422) is a result with applied:false, not an error. */
  apply(text: string, source: string): Promise<ApplyResult> {
    return this.#change("/api/v1/apply", text, source);
  }

  /** POST /api/v1/delete. */
  delete(text: string, source: string): Promise<ApplyResult> {
    return this.#change("/api/v1/delete", text, source);
  }

  async resources(query: ResourceQuery = {}): Promise<ResourceList> {
    const params = new URLSearchParams();
    if (query.kind) params.set("kind", query.kind);
    if (query.namespace) params.set("namespace", query.namespace);
    if (query.name) params.set("name", query.name);
    const qs = params.toString();
    const body = await this.#json("GET", `/api/v1/resources${qs ? `?${qs}` : ""}`);
    if (!isObject(body) || !Array.isArray(body.items)) throw this.#bad("/api/v1/resources", "no items array");
    return body as unknown as ResourceList;
  }

  async proxies(): Promise<ProxyStatus[]> {
    const body = await this.#json("GET", "/api/v1/proxies");
    if (!Array.isArray(body)) throw this.#bad("/api/v1/proxies", "not an array");
    return body as ProxyStatus[];
  }

  /** What the control plane last pushed (or would push) to a node. CP_NOT_FOUND for unknown nodes. */
  async proxyConfig(node: string): Promise<ProxyConfig> {
    const path = `/api/v1/proxies/${encodeURIComponent(node)}/config`;
    const body = await this.#json("GET", path);
    if (!isObject(body) || !Array.isArray(body.routes) || !Array.isArray(body.clusters)) throw this.#bad(path, "not a proxy config");
    return body as unknown as ProxyConfig;
  }

  /** The workload certificate the CA last issued to a node. CP_NOT_FOUND when none was. */
  async secret(node: string): Promise<SecretStatus> {
    const path = `/api/v1/proxies/${encodeURIComponent(node)}/secret`;
    const body = await this.#json("GET", path);
    if (!isObject(body) || !Array.isArray(body.certChain)) throw this.#bad(path, "not a secret status");
    return body as unknown as SecretStatus;
  }

  async revocations(): Promise<Revocation[]> {
    const body = await this.#json("GET", "/api/v1/ca/revocations");
    if (!Array.isArray(body)) throw this.#bad("/api/v1/ca/revocations", "not an array");
    return body as Revocation[];
  }

  /** POST (revoke) or DELETE (unrevoke) one entry; `changed` false when it was already so. */
  async revocation(method: "POST" | "DELETE", target: { serial: string } | { identity: string }): Promise<{ changed: boolean; revocations: Revocation[] }> {
    const path = "/api/v1/ca/revocations";
    const res = await this.#fetch(method, path, { body: JSON.stringify(target), headers: { "content-type": "application/json" } });
    const body = await readJson(res).catch(() => undefined);
    if (!res.ok) throw this.#httpError(path, res.status, body);
    if (!isObject(body) || typeof body.changed !== "boolean") throw this.#bad(path, "no changed flag");
    return body as unknown as { changed: boolean; revocations: Revocation[] };
  }

  /** POST /api/v1/ca/rotate-root: answers when the rotation is done (minutes at most). */
  async rotateRoot(): Promise<{ oldRoot: string; newRoot: string; reissued: string[] }> {
    const path = "/api/v1/ca/rotate-root";
    const res = await this.#fetch("POST", path, { body: "" }, 330_000);
    const body = await readJson(res).catch(() => undefined);
    if (!res.ok) throw this.#httpError(path, res.status, body);
    if (!isObject(body) || typeof body.newRoot !== "string" || !Array.isArray(body.reissued)) throw this.#bad(path, "not a rotation report");
    return body as unknown as { oldRoot: string; newRoot: string; reissued: string[] };
  }

  async status(): Promise<ControlPlaneStatus> {
    const body = await this.#json("GET", "/api/v1/status");
    if (!isObject(body)) throw this.#bad("/api/v1/status", "not an object");
    return body as unknown as ControlPlaneStatus;
  }

  /** GET /api/v1/telemetry/services: golden signals per service version over the window. */
  async telemetryServices(windowMs: number): Promise<unknown> {
    return this.#json("GET", `/api/v1/telemetry/services?window=${windowMs}ms`);
  }

  /** POST /api/v1/dashboard/login-codes: a single-use, short-lived dashboard login code. */
  async dashboardLoginCode(): Promise<{ code: string; path: string; expiresAt: string }> {
    const body = await this.#json("POST", "/api/v1/dashboard/login-codes");
    if (!isObject(body) || typeof body.path !== "string" || typeof body.code !== "string" || typeof body.expiresAt !== "string") throw this.#bad("/api/v1/dashboard/login-codes", "no login code");
    return { code: body.code, path: body.path, expiresAt: body.expiresAt };
  }

  async #change(path: string, text: string, source: string): Promise<ApplyResult> {
    const res = await this.#fetch("POST", path, { body: text, headers: { "content-type": "text/yaml; charset=utf-8", "x-amime-source": headerSafe(source) } });
    const body = await readJson(res).catch(() => undefined);
    // 200 applied, 422 refused: both carry an ApplyResult; anything else is an error.
    if (isObject(body) && typeof body.applied === "boolean" && Array.isArray(body.changes) && Array.isArray(body.diagnostics)) {
      return body as unknown as ApplyResult;
    }
    throw this.#httpError(path, res.status, body);
  }

  async #json(method: string, path: string): Promise<unknown> {
    const res = await this.#fetch(method, path, {});
    let body: unknown;
    try {
      body = await readJson(res);
    } catch (e) {
      if (res.ok) throw this.#bad(path, (e as Error).message);
    }
    if (!res.ok) throw this.#httpError(path, res.status, body);
    return body;
  }

  async #fetch(method: string, path: string, init: { body?: string; headers?: Record<string, string> }, timeoutMs = this.#timeoutMs): Promise<Answer> {
    const auth: Record<string, string> = this.#through !== undefined
      ? { ...this.#through.headers, ...(this.#credential ? { "x-amime-token": this.#credential.token } : {}) }
      : this.#credential ? { authorization: `Bearer ${this.#credential.token}` } : {};
    const url = new URL(`${this.baseUrl}${path}`);
    const headers = { ...init.headers, ...auth, ...(init.body !== undefined ? { "content-length": String(Buffer.byteLength(init.body)) } : {}) };
    const where = `the control plane at ${this.baseUrl}${this.#from ? ` (from ${this.#from})` : ""}`;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = url.protocol === "https:"
        ? httpsModule().request(url, { method, headers, agent: false, ...(this.#through?.tls ?? (this.#rootCert ? { ca: this.#rootCert.pem } : {})) })
        : httpModule().request(url, { method, headers, agent: false });
      req.setTimeout(timeoutMs, () => req.destroy(new ControlPlaneError("CP_TIMEOUT", `${where} did not answer ${method} ${path} within ${timeoutMs} ms`)));
      req.on("response", resolve);
      req.on("error", (e: Error & { code?: string }) => {
        if (e instanceof ControlPlaneError) return reject(e);
        const why = e.code ?? e.message;
        let hint = this.#from?.endsWith("up.json") ? "; is `amime up` still running? (the state file may be stale)" : "";
        if (url.protocol === "https:" && /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO/.test(why)) {
          hint = this.#rootCert
            ? `; its certificate does not verify against ${this.#rootCert.from}`
            : "; no mesh root found to verify its certificate with: run in the directory of `amime up` / `amime control-plane` (.amime/root-cert.pem), or set $AMIME_ROOT_CERT";
        } else if (url.protocol === "http:" && (why === "ECONNRESET" || why === "HPE_INVALID_CONSTANT")) {
          hint = "; the control plane serves https only";
        }
        reject(new ControlPlaneError("CP_UNREACHABLE", `cannot reach ${where}: ${why}${hint}`));
      });
      req.end(init.body);
    });
    const chunks: Buffer[] = [];
    const body = new Promise<string>((resolve, reject) => {
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    const status = res.statusCode ?? 0;
    return { status, ok: status >= 200 && status < 300, text: () => body };
  }

  #httpError(path: string, status: number, body: unknown): ControlPlaneError {
    const message = isObject(body) && typeof body.error === "string" ? body.error : isObject(body) && typeof body.message === "string" ? body.message : "";
    let text = `control plane answered ${status} to ${path}${message ? `: ${message}` : ""}`;
    if (status === 401) {
      text += this.#credential
        ? ` (credential from ${this.#credential.from})`
        : "; no credential found: run in the directory of `amime up` / `amime control-plane` (.amime/admin-token), or pass --token-file FILE or set $AMIME_TOKEN";
    }
    return new ControlPlaneError(status === 404 ? "CP_NOT_FOUND" : "CP_HTTP", text, status);
  }

  #bad(path: string, why: string): ControlPlaneError {
    return new ControlPlaneError("CP_BAD_RESPONSE", `unexpected answer from the control plane to ${path}: ${why}`);
  }
}

/** Header values must be printable ASCII here; other file names are sent percent-encoded (encodeURI). */
export function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURI(value);
}

async function readJson(res: Answer): Promise<unknown> {
  const text = await res.text();
  return text === "" ? undefined : JSON.parse(text);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
