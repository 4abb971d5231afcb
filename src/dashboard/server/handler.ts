// The dashboard's HTTP surface on the control plane's server (after the request gate):
//   GET  /dashboard/                      the single-page UI (graph, detail, traces, config)
//   GET  /dashboard/login[?code=…]        sign in: a login code from `amime dashboard`, or a form
//   POST /dashboard/login                 form field `token` = the admin token
//   POST /dashboard/logout
//   POST /api/v1/dashboard/login-codes    (admin) a single-use login code → {code, path, expiresAt}
//   GET  /dashboard/assets/…, /dashboard/vendor/…   static files (assets.ts)
//   GET  /dashboard/api/events?window=60s          server-sent events: `graph`, `status`
//   GET  /dashboard/api/detail?service=HOST | ?namespace=&app=&version=   golden signals, charts,
//                                                  instances with sync status, config that applies
//   POST /dashboard/api/explain  {node, url, method?, headers?}   `amime explain` for a typed URL
//   GET  /dashboard/api/config                     every resource with its analyze messages
//   POST /dashboard/api/dry-run  (YAML body)       what an apply would change, per proxy
// Traces come from the Zipkin API the control plane already serves (/api/v2/…).
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, parseJson, readBody, sendJson as sendJsonWith } from "../../core/http-json.ts";
import { parseWindow } from "../../control-plane/telemetry/telemetry-service.ts";
import { buildGraph, serviceRows } from "../../control-plane/telemetry/graph.ts";
import { SESSION_COOKIE } from "../../control-plane/auth/sessions.ts";
import type { Principal } from "../../control-plane/auth/token.ts";
import type { DashboardBackend, DashboardHandler } from "../../control-plane/dashboard-backend.ts";
import { formatExplainReport } from "../../explain/format.ts";
import { explainRequest } from "../../explain/report.ts";
import { ExplainError, parseExplainRequest } from "../../explain/request.ts";
import { workloadOf } from "../../model/registry.ts";
import { jsonDiff } from "../shape/json-diff.ts";
import { appliedConfig, configRows, type ConfigItem } from "./applies-to.ts";
import { assetFile, INDEX_HTML, loadAsset } from "./assets.ts";
import { detailCharts } from "./charts.ts";
import { loginPage } from "./login-page.ts";

const MAX_BODY = 1 << 20;
/** How often an events stream gets a fresh graph (the metrics store scrapes every 5 s by default). */
export const EVENTS_EVERY_MS = 2000;


export function createDashboardHandler(b: DashboardBackend): DashboardHandler {
  return (req, res, principal) => {
    const url = new URL(req.url ?? "/", "http://control-plane");
    const p = url.pathname;
    if (p !== "/dashboard" && !p.startsWith("/dashboard/") && p !== "/api/v1/dashboard/login-codes") return false;
    route(b, req, res, url, principal).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) sendJson(res, status, { error: (e as Error).message });
      else res.destroy();
    });
    return true;
  };
}

async function route(b: DashboardBackend, req: IncomingMessage, res: ServerResponse, url: URL, principal: Principal | null): Promise<void> {
  const p = url.pathname;
  const method = req.method ?? "GET";
  if (p === "/api/v1/dashboard/login-codes") {
    if (method !== "POST") throw new HttpError(405, `${method} not allowed`);
    if (principal?.kind !== "admin") throw new HttpError(403, "login codes are issued to the admin credential");
    req.resume();
    const { code, expiresAt } = b.sessions.mintLoginCode(principal);
    return sendJson(res, 200, { code, path: `/dashboard/login?code=${encodeURIComponent(code)}`, expiresAt: new Date(expiresAt).toISOString() });
  }
  if (p === "/dashboard/login") return login(b, req, res, url);
  if (p === "/dashboard/logout" && method === "POST") {
    req.resume();
    res.writeHead(303, { location: "/dashboard/login", "set-cookie": `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0` });
    return void res.end();
  }
  if (p === "/dashboard") {
    res.writeHead(308, { location: "/dashboard/" });
    return void res.end();
  }
  if (p === "/dashboard/" && method === "GET") return sendAsset(res, INDEX_HTML, pageCsp);
  if (p.startsWith("/dashboard/assets/") || p.startsWith("/dashboard/vendor/")) {
    const file = assetFile(p);
    if (file === null) throw new HttpError(404, `no such file ${p}`);
    return sendAsset(res, file);
  }
  if (!p.startsWith("/dashboard/api/")) throw new HttpError(404, `no such page ${p}`);
  const windowMs = parseWindow(url.searchParams.get("window"));
  if (windowMs === null) throw new HttpError(400, "window must look like 60s, 5m, 1h or 500ms");
  const what = `${method} ${p.slice("/dashboard/api/".length)}`;
  switch (what) {
    case "GET events":
      return events(b, req, res, windowMs);
    case "GET detail":
      return sendJson(res, 200, detail(b, url, windowMs));
    case "GET config":
      return sendJson(res, 200, configView(b));
    case "POST explain":
      return sendJson(res, 200, explain(b, parseJson(await readBody(req, MAX_BODY))));
    case "POST dry-run":
      return sendJson(res, 200, dryRun(b, await readBody(req, MAX_BODY)));
    default:
      throw new HttpError(404, `no such endpoint ${what}`);
  }
}

function sessionCookie(id: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}`;
}

async function login(b: DashboardBackend, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const maxAge = Math.floor(b.sessions.sessionTtlMs / 1000);
  if ((req.method ?? "GET") === "GET") {
    req.resume();
    const code = url.searchParams.get("code");
    if (code === null) return sendHtml(res, 200, loginPage(null));
    const id = b.sessions.redeem(code);
    if (id === null) return sendHtml(res, 401, loginPage("This login link is used or expired: run `amime dashboard` for a new one, or sign in with the admin token."));
    res.writeHead(303, { location: "/dashboard/", "set-cookie": sessionCookie(id, maxAge), "cache-control": "no-store" });
    return void res.end();
  }
  if (req.method !== "POST") throw new HttpError(405, `${req.method} not allowed`);
  const token = new URLSearchParams(await readBody(req, MAX_BODY)).get("token")?.trim() ?? "";
  const principal = token === "" ? null : b.verifyToken(token);
  if (principal?.kind !== "admin") return sendHtml(res, 401, loginPage("That is not the admin token (.amime/admin-token)."));
  res.writeHead(303, { location: "/dashboard/", "set-cookie": sessionCookie(b.sessions.open(principal), maxAge), "cache-control": "no-store" });
  res.end();
}

function events(b: DashboardBackend, req: IncomingMessage, res: ServerResponse, windowMs: number): void {
  req.socket.setNoDelay(true);
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
  let open = true;
  let timer: { cancel(): void } | null = null;
  const send = (): void => {
    if (!open) return;
    const status = b.status();
    const proxies = b.proxies();
    res.write(`event: graph\ndata: ${JSON.stringify(buildGraph(b.metrics.window(windowMs), windowMs, b.metrics.tcpWindow(windowMs)))}\n\n`);
    res.write(`event: status\ndata: ${JSON.stringify({ version: status.version, resources: status.resources, proxies: proxies.length, synced: proxies.filter((x) => x.state === "SYNCED").length, at: b.clock.wallNow() })}\n\n`);
    timer = b.clock.setTimeout(send, EVENTS_EVERY_MS).unref();
  };
  res.on("close", () => {
    open = false;
    timer?.cancel();
  });
  send();
}

function itemsOf(b: DashboardBackend): ConfigItem[] {
  return b.resources().items.map((r) => ({ kind: r.kind, namespace: r.namespace, name: r.name, body: r.body as Record<string, unknown>, source: r.source }));
}

function detail(b: DashboardBackend, url: URL, windowMs: number): unknown {
  const service = url.searchParams.get("service") ?? undefined;
  const app = url.searchParams.get("app") ?? undefined;
  const version = url.searchParams.get("version") ?? undefined;
  const svc = service === undefined ? undefined : b.services().find((s) => s.host === service);
  const namespace = url.searchParams.get("namespace") ?? svc?.namespace ?? (service?.split(".")[1] ?? "default");
  if (service === undefined && app === undefined) throw new HttpError(400, "needs ?service=HOST or ?namespace=&app=[&version=]");
  const regs = b.instances().filter((r) => {
    const i = r.instance;
    if ((i.namespace || "default") !== namespace) return false;
    if (svc !== undefined) return svc.selector !== undefined && Object.entries(svc.selector).every(([k, v]) => i.labels[k] === v);
    if (service !== undefined) return i.labels.app === service.split(".")[0];
    return i.labels.app === app && (version === undefined || i.labels.version === version);
  });
  const proxies = new Map(b.proxies().map((x) => [x.node, x]));
  const instances = regs.map((r) => ({
    name: r.instance.name,
    workload: workloadOf(r.instance),
    node: r.nodeId,
    version: r.instance.labels.version ?? "",
    labels: r.instance.labels,
    ready: r.instance.ready,
    proxy: proxies.get(r.nodeId) ?? null,
  }));
  const rows = serviceRows(b.metrics.window(windowMs)).filter((r) =>
    service !== undefined ? r.service === service : r.app === app && r.namespace === namespace && (version === undefined || r.version === version),
  );
  const labelSets = [...new Map(regs.map((r) => [JSON.stringify(r.instance.labels), r.instance.labels])).values()];
  const config = appliedConfig(itemsOf(b), b.diagnostics(), { ...(service !== undefined ? { service } : {}), namespace, workloadLabels: labelSets }, b.rootNamespace);
  const charts = detailCharts(b.metrics.history(windowMs), { namespace, ...(service !== undefined ? { service } : {}), ...(app !== undefined ? { app } : {}), ...(version !== undefined ? { version } : {}) }, b.metrics.intervalMs);
  return { subject: { service: service ?? null, namespace, app: app ?? null, version: version ?? null }, windowMs, stepMs: b.metrics.intervalMs, rows, instances, config, charts };
}

function configView(b: DashboardBackend): unknown {
  const status = b.status();
  return { version: status.version, refused: status.refused, ...configRows(itemsOf(b), b.diagnostics()) };
}

function explain(b: DashboardBackend, body: unknown): unknown {
  const o = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const node = typeof o.node === "string" ? o.node : "";
  const target = typeof o.url === "string" ? o.url : "";
  if (node === "" || target === "") throw new HttpError(400, 'body must be {"node": "<node id>", "url": "http://reviews:9080/"}');
  const cfg = b.proxyConfig(node);
  if (cfg === null) throw new HttpError(404, `nothing pushed to ${node} yet`);
  try {
    const headers = Array.isArray(o.headers) ? o.headers.filter((h): h is string => typeof h === "string") : [];
    const report = explainRequest(cfg, parseExplainRequest(target, typeof o.method === "string" && o.method !== "" ? o.method : "GET", headers));
    return { text: formatExplainReport(report), report };
  } catch (e) {
    if (e instanceof ExplainError) throw new HttpError(400, e.message);
    throw e;
  }
}

function dryRun(b: DashboardBackend, text: string): unknown {
  if (text.trim() === "") throw new HttpError(400, "the body is the YAML you would apply");
  const { result, proxies } = b.dryRun(text, "dry-run");
  const strip = (c: unknown): unknown => (c !== null && typeof c === "object" ? { ...(c as Record<string, unknown>), version: undefined } : c);
  return {
    ...result,
    proxies: proxies
      .map((x) => ({ node: x.node, changes: jsonDiff(strip(x.before), strip(x.after)).filter((c) => c.path !== "version") }))
      .filter((x) => x.changes.length > 0),
  };
}

async function sendAsset(res: ServerResponse, file: string, csp?: (body: Buffer) => string): Promise<void> {
  const a = await loadAsset(file);
  if (a === null) throw new HttpError(404, "no such file");
  res.writeHead(200, { "content-type": a.type, "content-length": a.body.length, "cache-control": "no-cache", "x-content-type-options": "nosniff", ...(csp ? { "content-security-policy": csp(a.body) } : {}) });
  res.end(a.body);
}

/**
 * The dashboard page's Content-Security-Policy: scripts only from the control plane's own origin,
 * plus the one inline script, the import map, by its hash (CSP3 hash-source); no plugins, no
 * framing, no <base>, forms only to itself. Inline styles stay allowed (Cytoscape and uPlot style
 * their elements).
 */
export function pageCsp(html: Buffer): string {
  const hashes = [...html.toString("utf8").matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash("sha256").update(m[1] as string).digest("base64")}'`);
  return `default-src 'self'; script-src 'self' ${hashes.join(" ")}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(html), "cache-control": "no-store", "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'" });
  res.end(html);
}

/** Dashboard replies are never cached (they carry live state and session-bound data). */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonWith(res, status, body, { "cache-control": "no-store" });
}
