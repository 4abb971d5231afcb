// An httpbin for the mesh demos: the subset of go-httpbin (what Istio's httpbin sample runs) that
// Istio's tasks use. JSON shapes follow go-httpbin: header and query values are lists, header
// names are canonical (Content-Type, X-Request-Id).
//   /get /headers /ip /user-agent /uuid /html /health
//   /anything[/…] (any method)   /post (POST)   /status/<code>   /delay/<seconds> (≤ 10)
//   /response-headers?K=V        /bytes/<n> (≤ 100 KiB)   /stream/<n> (≤ 100 lines)
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson, serve } from "../lib/serve.ts";

const MAX_DELAY_S = 10;
const MAX_BYTES = 100 * 1024;
const MAX_STREAM = 100;
const MAX_BODY = 1024 * 1024;

type Route = (req: IncomingMessage, res: ServerResponse, url: URL, arg: string) => void | Promise<void>;

const ROUTES: [RegExp, string[] | "any", Route][] = [
  [/^\/$/, ["GET"], (_q, res) => page(res, INDEX)],
  [/^\/health$/, ["GET"], (_q, res) => sendJson(res, 200, { status: "ok" })],
  [/^\/get$/, ["GET"], (req, res, url) => sendJson(res, 200, requestInfo(req, url))],
  [/^\/headers$/, ["GET"], (req, res) => sendJson(res, 200, { headers: canonicalHeaders(req) })],
  [/^\/ip$/, ["GET"], (req, res) => sendJson(res, 200, { origin: origin(req) })],
  [/^\/user-agent$/, ["GET"], (req, res) => sendJson(res, 200, { "user-agent": req.headers["user-agent"] ?? "" })],
  [/^\/uuid$/, ["GET"], (_q, res) => sendJson(res, 200, { uuid: randomUUID() })],
  [/^\/html$/, ["GET"], (_q, res) => page(res, HTML)],
  [/^\/anything(?:\/.*)?$/, "any", async (req, res, url) => sendJson(res, 200, { ...requestInfo(req, url), ...(await bodyInfo(req)) })],
  [/^\/post$/, ["POST"], async (req, res, url) => sendJson(res, 200, { ...requestInfo(req, url), ...(await bodyInfo(req)) })],
  [/^\/status\/([^/]+)$/, "any", (_q, res, _u, code) => status(res, code)],
  [/^\/delay\/([^/]+)$/, ["GET"], (req, res, url, s) => delay(req, res, url, s)],
  [/^\/response-headers$/, ["GET", "POST"], (_q, res, url) => responseHeaders(res, url)],
  [/^\/bytes\/([^/]+)$/, ["GET"], (_q, res, _u, n) => bytes(res, n)],
  [/^\/stream\/([^/]+)$/, ["GET"], (req, res, url, n) => stream(req, res, url, n)],
];

serve("httpbin", 8080, async (req, res, url) => {
  for (const [pattern, methods, route] of ROUTES) {
    const m = pattern.exec(url.pathname);
    if (!m) continue;
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    if (methods !== "any" && !methods.includes(method)) {
      res.setHeader("allow", [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", "));
      return sendJson(res, 405, { status_code: 405, error: "Method Not Allowed" });
    }
    return route(req, res, url, m[1] ?? "");
  }
  sendJson(res, 404, { status_code: 404, error: "Not Found" });
});

/** Go's textproto.CanonicalMIMEHeaderKey: "x-request-id" → "X-Request-Id". */
function canonicalName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function canonicalHeaders(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = canonicalName(req.rawHeaders[i] ?? "");
    (out[name] ??= []).push(req.rawHeaders[i + 1] ?? "");
  }
  return out;
}

function args(url: URL): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (out[k] ??= []).push(v);
  return out;
}

function origin(req: IncomingMessage): string {
  const xff = req.headers["x-forwarded-for"];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(",")[0]?.trim();
  const peer = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  return first || (req.headers["x-real-ip"] as string | undefined) || peer;
}

function requestInfo(req: IncomingMessage, url: URL): Record<string, unknown> {
  const proto = (req.headers["x-forwarded-proto"] as string | undefined) ?? "http";
  return { args: args(url), headers: canonicalHeaders(req), method: req.method, origin: origin(req), url: `${proto}://${req.headers.host ?? "localhost"}${req.url ?? "/"}` };
}

async function bodyInfo(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new Error("request body over 1 MiB");
    chunks.push(c);
  }
  const raw = Buffer.concat(chunks);
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  const text = raw.toString("utf8");
  let json: unknown = null;
  let form: Record<string, string[]> = {};
  let data = Buffer.from(text, "utf8").equals(raw) ? text : `data:application/octet-stream;base64,${raw.toString("base64")}`;
  if (type === "application/x-www-form-urlencoded") {
    form = args(new URL(`http://x/?${text}`));
    data = "";
  } else if (raw.length > 0 && (type === "application/json" || type?.endsWith("+json"))) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  return { data, files: {}, form, json };
}

function status(res: ServerResponse, codeText: string): void {
  const code = Number(codeText);
  if (!/^\d{3}$/.test(codeText) || code < 200 || code > 599) return sendJson(res, 400, { status_code: 400, error: `invalid status code ${JSON.stringify(codeText)}` });
  if (code >= 300 && code < 400) res.setHeader("location", "/redirect/1");
  if (code === 418) return void res.writeHead(418, { "content-type": "text/plain", "x-more-info": "http://tools.ietf.org/html/rfc2324" }).end("I'm a teapot!");
  res.writeHead(code).end();
}

function delay(req: IncomingMessage, res: ServerResponse, url: URL, seconds: string): void {
  const s = Number(seconds);
  if (seconds === "" || !Number.isFinite(s) || s < 0 || s > MAX_DELAY_S) return sendJson(res, 400, { status_code: 400, error: `delay must be between 0 and ${MAX_DELAY_S} seconds` });
  const timer = setTimeout(() => sendJson(res, 200, requestInfo(req, url)), s * 1000);
  res.on("close", () => clearTimeout(timer));
}

function responseHeaders(res: ServerResponse, url: URL): void {
  const headers: Record<string, string[]> = { "Content-Type": ["application/json; charset=utf-8"] };
  for (const [k, v] of url.searchParams) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n\0]/.test(v)) return sendJson(res, 400, { status_code: 400, error: `invalid header ${JSON.stringify(k)}` });
    (headers[canonicalName(k)] ??= []).push(v);
  }
  const body = JSON.stringify(headers);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.writeHead(200).end(body);
}

function count(text: string, max: number): number | undefined {
  const n = Number(text);
  return /^\d+$/.test(text) && n <= max ? n : undefined;
}

function bytes(res: ServerResponse, text: string): void {
  const n = count(text, MAX_BYTES);
  if (n === undefined) return sendJson(res, 400, { status_code: 400, error: `number of bytes must be 0..${MAX_BYTES}` });
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": n }).end(randomBytes(n));
}

function stream(req: IncomingMessage, res: ServerResponse, url: URL, text: string): void {
  const n = count(text, MAX_STREAM);
  if (n === undefined) return sendJson(res, 400, { status_code: 400, error: `number of lines must be 0..${MAX_STREAM}` });
  res.writeHead(200, { "content-type": "application/json" });
  const info = requestInfo(req, url);
  for (let id = 0; id < n; id++) res.write(`${JSON.stringify({ id, ...info })}\n`);
  res.end();
}

function page(res: ServerResponse, body: string): void {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
}

const INDEX = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>httpbin (Amime sample)</title></head><body>
<h1>httpbin</h1><p>A go-httpbin subset for Amime's demos.</p><ul>
${["/get", "/headers", "/ip", "/user-agent", "/uuid", "/html", "/anything", "/post", "/status/418", "/delay/1", "/response-headers?Server=httpbin", "/bytes/16", "/stream/3", "/health"].map((p) => `<li><a href="${p}">${p}</a></li>`).join("\n")}
</ul></body></html>
`;

const HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body>
<h1>Herman Melville - Moby-Dick</h1>
<div><p>Availing himself of the mild, summer-cool weather that now reigned in these latitudes, and in preparation for the peculiarly active pursuits shortly to be anticipated, Perth, the begrimed, blistered old blacksmith, had not removed his portable forge to the hold again, after concluding his contributory work for Ahab's leg, but still retained it on deck, fast lashed to ringbolts by the foremast.</p></div>
</body></html>
`;
