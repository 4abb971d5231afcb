// The embedded Zipkin v2 collector's HTTP API over a SpanStore:
//   POST /api/v2/spans                      JSON list of spans → 202 (400 with the reason if invalid)
//   GET  /api/v2/services                   service names
//   GET  /api/v2/spans?serviceName=         span names of a service
//   GET  /api/v2/traces?serviceName&spanName&minDuration&maxDuration&endTs&lookback&limit
//   GET  /api/v2/trace/{traceId}            one trace's spans (404 if unknown)
import type { IncomingMessage, ServerResponse } from "node:http";
import { checkSpan, type SpanStore, type StoredSpan, type TraceQuery } from "./span-store.ts";

export const MAX_SPANS_BODY = 8 * 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function num(v: string | null): number | undefined | null {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** Handles /api/v2/* requests; false when the path is not the collector's. */
export function handleZipkin(store: SpanStore, req: IncomingMessage, res: ServerResponse, url: URL, nowMs: () => number): boolean {
  const p = url.pathname;
  if (!p.startsWith("/api/v2/")) return false;
  const method = req.method ?? "GET";
  if (p === "/api/v2/spans" && method === "POST") {
    receiveSpans(store, req, res);
    return true;
  }
  if (method !== "GET" && method !== "HEAD") {
    req.resume();
    sendText(res, 405, "method not allowed\n");
    return true;
  }
  req.resume();
  if (p === "/api/v2/services") {
    sendJson(res, 200, store.services());
    return true;
  }
  if (p === "/api/v2/spans") {
    const service = url.searchParams.get("serviceName");
    if (service === null || service === "") {
      sendText(res, 400, "serviceName is required\n");
      return true;
    }
    sendJson(res, 200, store.spanNames(service));
    return true;
  }
  if (p === "/api/v2/traces") {
    const q: TraceQuery = {};
    const serviceName = url.searchParams.get("serviceName");
    const spanName = url.searchParams.get("spanName");
    if (serviceName !== null && serviceName !== "") q.serviceName = serviceName;
    if (spanName !== null && spanName !== "") q.spanName = spanName;
    const annotationQuery = url.searchParams.get("annotationQuery");
    if (annotationQuery !== null && annotationQuery.trim() !== "") q.annotationQuery = annotationQuery;
    for (const k of ["minDuration", "maxDuration", "endTs", "lookback", "limit"] as const) {
      const v = num(url.searchParams.get(k));
      if (v === null) {
        sendText(res, 400, `${k} must be a non-negative number\n`);
        return true;
      }
      if (v !== undefined) q[k] = v;
    }
    sendJson(res, 200, store.traces(q, nowMs()));
    return true;
  }
  const m = /^\/api\/v2\/trace\/([0-9a-fA-F]{16}|[0-9a-fA-F]{32})$/.exec(p);
  if (m !== null) {
    const t = store.trace(m[1] as string);
    if (t === undefined) sendText(res, 404, `trace ${m[1]} not found\n`);
    else sendJson(res, 200, t);
    return true;
  }
  sendText(res, 404, "not found\n");
  return true;
}

function receiveSpans(store: SpanStore, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size > MAX_SPANS_BODY) tooBig = true;
    else chunks.push(c);
  });
  req.on("end", () => {
    if (tooBig) return sendText(res, 413, `span batch over ${MAX_SPANS_BODY} bytes\n`);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (e) {
      return sendText(res, 400, `invalid JSON: ${(e as Error).message}\n`);
    }
    if (!Array.isArray(body)) return sendText(res, 400, "expected a JSON list of spans\n");
    const ok: StoredSpan[] = [];
    for (let i = 0; i < body.length; i++) {
      const s = checkSpan(body[i], i);
      if (typeof s === "string") return sendText(res, 400, s + "\n");
      ok.push(s);
    }
    store.add(ok);
    res.writeHead(202, { "content-length": 0 });
    res.end();
  });
  req.on("error", () => res.destroy());
}
