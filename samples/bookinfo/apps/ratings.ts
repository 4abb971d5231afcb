// Bookinfo ratings: the stars each reviewer gave, as Istio's Node ratings service (v1, in memory).
// GET /ratings/<id> → {id, ratings: {Reviewer1: 5, Reviewer2: 4}}; POST /ratings/<id> with a JSON
// object replaces them until restart; GET /health.
import type { IncomingMessage } from "node:http";
import { sendJson, serve } from "../../lib/serve.ts";

const posted = new Map<number, unknown>();

serve("ratings", 9080, async (req, res, url) => {
  if (url.pathname === "/health") return sendJson(res, 200, { status: "Ratings is healthy" });
  const m = /^\/ratings\/([^/]*)$/.exec(url.pathname);
  if (!m) return sendJson(res, 404, { error: "not found" });
  if (!/^\d+$/.test(m[1] ?? "")) return sendJson(res, 400, { error: "please provide numeric product ID" });
  const id = Number(m[1]);
  if (req.method === "POST") {
    let ratings: unknown;
    try {
      ratings = JSON.parse(await readBody(req));
    } catch {
      return sendJson(res, 400, { error: "please provide valid ratings JSON" });
    }
    posted.set(id, ratings);
  } else if (req.method !== "GET" && req.method !== "HEAD") {
    return sendJson(res, 405, { error: "method not allowed" });
  }
  sendJson(res, 200, { id, ratings: posted.get(id) ?? { Reviewer1: 5, Reviewer2: 4 } });
});

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 64 * 1024) throw new Error("body too large");
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}
