// Bookinfo details: the book's publication facts, as Istio's Ruby details service returns them.
// GET /details/<id> → JSON; GET /health.
import { sendJson, serve } from "../../lib/serve.ts";

serve("details", 9080, (req, res, url) => {
  if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" });
  if (url.pathname === "/health") return sendJson(res, 200, { status: "Details is healthy" });
  const m = /^\/details\/([^/]*)$/.exec(url.pathname);
  if (!m) return sendJson(res, 404, { error: "not found" });
  if (!/^-?\d+$/.test(m[1] ?? "")) return sendJson(res, 400, { error: "please provide numeric product id" });
  sendJson(res, 200, {
    id: Number(m[1]),
    author: "William Shakespeare",
    year: 1595,
    type: "paperback",
    pages: 200,
    publisher: "PublisherA",
    language: "English",
    "ISBN-10": "1234567890",
    "ISBN-13": "123-1234567890",
  });
});
