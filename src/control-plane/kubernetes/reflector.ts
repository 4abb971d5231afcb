// One resource collection of the Kubernetes API kept in step, as client-go's reflector does: list
// it (in pages), then watch from the list's resourceVersion with bookmarks (so a reconnect resumes
// from a recent version), and hand every change to the handlers. A watch that ends (the server's
// timeout) is resumed from the last version seen; 410 Gone (that version was compacted away) or a
// broken connection makes it list again, and a relist reports what vanished meanwhile as deletions,
// so the cache never keeps an object the server no longer has. Retries back off from 500 ms to 30 s.
import { request, type RequestOptions } from "node:https";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { KubeConnection } from "./kube-config.ts";

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ReflectorHandlers {
  upsert(obj: KubeObject): void;
  remove(obj: KubeObject): void;
}

/** A request the API server answered with an error status (layer: control plane, Kubernetes platform). */
export class KubeApiError extends Error {
  readonly code = "CP_KUBE_API";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "KubeApiError";
    this.status = status;
  }
}

const PAGE = 500;
const WATCH_TIMEOUT_S = 300;
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

export class Reflector {
  private readonly objects = new Map<string, KubeObject>();
  private resourceVersion = "";
  private closed = false;
  private backoffMs = MIN_BACKOFF_MS;
  private timer: TimerHandle | null = null;
  private abort: (() => void) | null = null;
  /** Lists made (the first one and every relist), for status and tests. */
  lists = 0;
  /** Bookmark events received (each moves the version a resumed watch starts from). */
  bookmarks = 0;

  private readonly conn: KubeConnection;
  /** e.g. `/api/v1/pods` or `/apis/networking.istio.io/v1/virtualservices`, maybe with a `?fieldSelector=…`. */
  readonly path: string;
  private readonly handlers: ReflectorHandlers;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly watchTimeoutSeconds: number;

  /** `watchTimeoutSeconds`: how long the API server keeps one watch open (client-go's 5 to 10 minutes; tests shorten it). */
  constructor(conn: KubeConnection, path: string, handlers: ReflectorHandlers, clock: Clock, log: (line: string) => void, opts: { watchTimeoutSeconds?: number } = {}) {
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? WATCH_TIMEOUT_S;
    this.conn = conn;
    this.path = path;
    this.handlers = handlers;
    this.clock = clock;
    this.log = log;
  }

  /** List once (rejects when that fails: the caller decides whether to start), then keep watching. */
  async start(): Promise<void> {
    await this.list();
    this.watch();
  }

  /** The resourceVersion a resumed watch would start from (the list's, or the last event's or bookmark's). */
  get version(): string {
    return this.resourceVersion;
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.abort?.();
  }

  private async list(): Promise<void> {
    const { items, resourceVersion: version } = await listAll(this.conn, this.path);
    const seen = new Map(items.map((item) => [keyOf(item), item]));
    this.lists++;
    for (const [key, old] of this.objects) {
      if (!seen.has(key)) {
        this.objects.delete(key);
        this.handlers.remove(old);
      }
    }
    for (const [key, obj] of seen) {
      const old = this.objects.get(key);
      if (old !== undefined && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.objects.set(key, obj);
      this.handlers.upsert(obj);
    }
    this.resourceVersion = version;
  }

  private watch(): void {
    if (this.closed) return;
    const path = `${this.path}${this.path.includes("?") ? "&" : "?"}watch=1&allowWatchBookmarks=true&timeoutSeconds=${this.watchTimeoutSeconds}&resourceVersion=${encodeURIComponent(this.resourceVersion)}`;
    this.abort = stream(this.conn, path, (line) => this.event(line), (err) => {
      this.abort = null;
      if (this.closed) return;
      if (err === null) {
        this.backoffMs = MIN_BACKOFF_MS;
        this.watch();
      } else {
        this.log(`kubernetes: watch ${this.path}: ${err.message}; listing again`);
        this.retry();
      }
    });
  }

  /** One watch event; returns an error to end the watch with (then it lists again). */
  private event(line: string): Error | null {
    let ev: { type?: string; object?: KubeObject & { code?: number; message?: string } };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return new Error(`not a watch event: ${line.slice(0, 200)}`);
    }
    const obj = ev.object;
    if (obj === undefined) return new Error(`watch event without object: ${line.slice(0, 200)}`);
    switch (ev.type) {
      case "ADDED":
      case "MODIFIED":
        this.objects.set(keyOf(obj), obj);
        this.handlers.upsert(obj);
        break;
      case "DELETED":
        this.objects.delete(keyOf(obj));
        this.handlers.remove(obj);
        break;
      case "BOOKMARK":
        this.bookmarks++;
        break;
      case "ERROR":
        return new KubeApiError(obj.code ?? 0, obj.code === 410 ? `410 Gone (${obj.message ?? "resourceVersion too old"})` : `error event ${obj.code}: ${obj.message}`);
      default:
        return new Error(`unknown watch event type ${ev.type}`);
    }
    if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
    this.backoffMs = MIN_BACKOFF_MS;
    return null;
  }

  private retry(): void {
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      this.list().then(() => this.watch(), (e: unknown) => {
        this.log(`kubernetes: list ${this.path}: ${(e as Error).message}; retrying in ${this.backoffMs} ms`);
        this.retry();
      });
    }, wait);
  }
}

/** Every object of a collection, listed in pages, and the resourceVersion of the list. */
export async function listAll(conn: KubeConnection, path: string): Promise<{ items: KubeObject[]; resourceVersion: string }> {
  const items: KubeObject[] = [];
  let next = "";
  let version = "";
  do {
    const page = (await getJson(conn, `${path}${path.includes("?") ? "&" : "?"}limit=${PAGE}${next ? `&continue=${encodeURIComponent(next)}` : ""}`)) as { items?: KubeObject[]; metadata?: { continue?: string; resourceVersion?: string } };
    items.push(...(page.items ?? []));
    next = page.metadata?.continue ?? "";
    version = page.metadata?.resourceVersion ?? version;
  } while (next !== "");
  return { items, resourceVersion: version };
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

function options(conn: KubeConnection, path: string): RequestOptions & { href: URL } {
  const url = new URL(path, conn.server);
  const headers: Record<string, string> = { accept: "application/json" };
  const token = conn.token?.();
  if (token) headers.authorization = `Bearer ${token}`;
  return {
    href: url,
    headers,
    ...(conn.ca !== undefined ? { ca: conn.ca } : {}),
    ...(conn.cert !== undefined ? { cert: conn.cert } : {}),
    ...(conn.key !== undefined ? { key: conn.key } : {}),
    rejectUnauthorized: !conn.insecure,
  };
}

/** GET a path and parse its JSON body; a non-2xx status rejects with the server's message. */
export function getJson(conn: KubeConnection, path: string): Promise<unknown> {
  return send(conn, "GET", path, undefined);
}

/** POST a JSON object (create); resolves with what the server stored. */
export function postJson(conn: KubeConnection, path: string, body: object): Promise<unknown> {
  return send(conn, "POST", path, JSON.stringify(body));
}

/** PUT a JSON object (replace; its metadata.resourceVersion makes it conditional); resolves with what the server stored. */
export function putJson(conn: KubeConnection, path: string, body: object): Promise<unknown> {
  return send(conn, "PUT", path, JSON.stringify(body));
}

function send(conn: KubeConnection, method: string, path: string, body: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const { href, headers, ...opts } = options(conn, path);
    const req = request(href, { ...opts, method, headers: body === undefined ? headers : { ...headers, "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) return reject(new KubeApiError(status, `${method} ${path}: ${status} ${messageOf(text)}`));
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new Error(`${method} ${path}: not JSON: ${(e as Error).message}`));
        }
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A watch stream: `onLine` per event line (an error it returns ends the stream); `onEnd(null)` when the server ends it. */
function stream(conn: KubeConnection, path: string, onLine: (line: string) => Error | null, onEnd: (err: Error | null) => void): () => void {
  let done = false;
  const finish = (err: Error | null): void => {
    if (done) return;
    done = true;
    onEnd(err);
  };
  const { href, ...opts } = options(conn, path);
  const req = request(href, opts, (res) => {
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => finish(new KubeApiError(status, `watch: ${status} ${messageOf(body)}`)));
      return;
    }
    let buffered = "";
    res.setEncoding("utf8");
    res.on("data", (d: string) => {
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === "") continue;
        const err = onLine(line);
        if (err !== null) {
          finish(err);
          req.destroy();
          return;
        }
      }
    });
    res.on("end", () => finish(null));
    res.on("error", (e) => finish(e));
    // The server went away mid-stream (no clean end): list again once it is back.
    res.on("close", () => finish(new Error("watch connection closed")));
  });
  req.on("error", (e) => finish(e));
  req.end();
  return () => {
    done = true;
    req.destroy();
  };
}

function messageOf(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}
