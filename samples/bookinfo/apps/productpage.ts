// Bookinfo productpage, after Istio's Python service: the page a user opens, built from details
// and reviews. Routes:
//   GET  /                      index with a link to the product page
//   GET  /productpage           HTML: book, details, reviews with stars, the signed-in user
//   POST /login                 form field `username` → cookie session=<user>, redirect to /productpage
//   GET  /logout                clears the cookie, redirect to /productpage
//   GET  /api/v1/products[/<id>[/reviews|/ratings]]   JSON
//   GET  /health, /static/bookinfo.css
//
// Upstream's timing is kept because Istio's fault-injection task depends on it: details and
// ratings calls time out after 3 s, reviews after 3 s with one retry (6 s in all), so a 7 s delay
// injected on ratings shows "Sorry, product reviews are currently unavailable for this book.".
// REQUEST_TIMEOUT_MS overrides the 3 s (tests use it).
// A signed-in user is sent to reviews as `end-user: <user>`, which the jason VirtualServices match.
import type { IncomingMessage, ServerResponse } from "node:http";
import { getJson } from "../../lib/get-json.ts";
import { propagate } from "../../lib/propagate.ts";
import { sendJson, serve } from "../../lib/serve.ts";

const base = (name: string, fallback: string): string => (process.env[name] ?? fallback).replace(/\/+$/, "");
const DETAILS = base("DETAILS_URL", "http://details:9080");
const REVIEWS = base("REVIEWS_URL", "http://reviews:9080");
const RATINGS = base("RATINGS_URL", "http://ratings:9080");
const TIMEOUT_MS = Number(process.env.REQUEST_TIMEOUT_MS ?? 3000);

const PRODUCTS = [
  {
    id: 0,
    title: "The Comedy of Errors",
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
  },
];

interface Result {
  status: number;
  body: unknown;
}

serve("productpage", 9080, async (req, res, url) => {
  const path = url.pathname;
  if (path === "/login" && req.method === "POST") return login(req, res);
  if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" });
  if (path === "/" || path === "/index.html") return html(res, 200, indexPage());
  if (path === "/health") return text(res, 200, "Product page is healthy");
  if (path === "/logout") return redirect(res, "/productpage", "session=; Path=/; Max-Age=0");
  if (path === "/static/bookinfo.css") return css(res);
  if (path === "/productpage") return productPage(req, res);
  if (path === "/api/v1/products") return sendJson(res, 200, PRODUCTS);
  const m = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/.exec(path);
  if (m) {
    const id = encodeURIComponent(safeDecode(m[1] ?? ""));
    const headers = forwardHeaders(req);
    const r = m[2] === "reviews" ? await reviewsFor(id, headers) : m[2] === "ratings" ? await ratingsFor(id, headers) : await detailsFor(id, headers);
    return sendJson(res, r.status, r.body);
  }
  text(res, 404, "Not Found");
});

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function sessionUser(req: IncomingMessage): string {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === "session") {
      return safeDecode(v.join("="));
    }
  }
  return "";
}

function forwardHeaders(req: IncomingMessage): Record<string, string> {
  const headers = propagate(req.headers);
  // As upstream, the end user comes from the session, never from a header the caller set.
  delete headers["end-user"];
  const user = sessionUser(req);
  if (user) headers["end-user"] = user;
  return headers;
}

async function call(url: string, headers: Record<string, string>, attempts: number, error: string): Promise<Result> {
  let status = 500;
  for (let i = 0; i < attempts; i++) {
    try {
      const r = await getJson(url, headers, TIMEOUT_MS);
      if (r.status === 200 && r.body !== undefined) return { status: 200, body: r.body };
      // A 200 without a JSON body is as useless to the page as an error.
      status = r.status === 200 || r.status === 0 ? 500 : r.status;
    } catch {
      status = 500;
    }
  }
  return { status, body: { error } };
}

const detailsFor = (id: string, h: Record<string, string>): Promise<Result> => call(`${DETAILS}/details/${id}`, h, 1, "Sorry, product details are currently unavailable for this book.");
// Two attempts, as upstream ("bug introduced explicitly for illustration in fault injection task").
const reviewsFor = (id: string, h: Record<string, string>): Promise<Result> => call(`${REVIEWS}/reviews/${id}`, h, 2, "Sorry, product reviews are currently unavailable for this book.");
const ratingsFor = (id: string, h: Record<string, string>): Promise<Result> => call(`${RATINGS}/ratings/${id}`, h, 1, "Sorry, product ratings are currently unavailable for this book.");

async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 16 * 1024) return text(res, 413, "form too large");
    chunks.push(c);
  }
  const user = new URLSearchParams(Buffer.concat(chunks).toString("utf8")).get("username")?.trim() ?? "";
  redirect(res, "/productpage", user ? `session=${encodeURIComponent(user)}; Path=/; HttpOnly; SameSite=Lax` : "session=; Path=/; Max-Age=0");
}

async function productPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = forwardHeaders(req);
  const user = sessionUser(req);
  // Sequential, as upstream: the reviews call starts once details has answered.
  const details = await detailsFor("0", headers);
  const reviews = await reviewsFor("0", headers);
  html(res, 200, page(PRODUCTS[0]!, user, details, reviews));
}

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(product: (typeof PRODUCTS)[number], user: string, details: Result, reviews: Result): string {
  const signIn = user
    ? `<span class="user">Signed in as <b>${esc(user)}</b></span> <a href="/logout">Sign out</a>`
    : `<form method="post" action="/login"><input name="username" placeholder="User name"> <input type="password" name="passwd" placeholder="Password"> <button type="submit">Sign in</button></form>`;
  return layout(
    "Simple Bookstore App",
    `<nav><a href="/">BookInfo Sample</a> ${signIn}</nav>
<h2>${esc(product.title)}</h2>
<p class="summary">Summary: ${product.descriptionHtml}</p>
<div class="columns">
<section class="details"><h4>Book Details</h4>${detailsHtml(details)}</section>
<section class="reviews"><h4>Book Reviews</h4>${reviewsHtml(reviews)}</section>
</div>`,
  );
}

function detailsHtml(r: Result): string {
  const d = r.body as Record<string, unknown>;
  if (r.status !== 200) return `<h4>Error fetching product details!</h4><p>${esc(d.error)}</p>`;
  const rows: [string, unknown][] = [["Type", d.type], ["Pages", d.pages], ["Publisher", d.publisher], ["Language", d.language], ["ISBN-10", d["ISBN-10"]], ["ISBN-13", d["ISBN-13"]]];
  return `<dl>${rows.map(([k, v]) => `<dt>${k}:</dt><dd>${esc(v)}</dd>`).join("")}</dl>`;
}

function reviewsHtml(r: Result): string {
  const body = r.body as { error?: unknown; podname?: unknown; reviews?: { reviewer?: unknown; text?: unknown; rating?: { stars?: unknown; color?: unknown; error?: unknown } }[] };
  if (r.status !== 200) return `<h4>Error fetching product reviews!</h4><p>${esc(body.error)}</p>`;
  const items = (body.reviews ?? []).map((rv) => {
    let rating = "";
    if (typeof rv.rating?.stars === "number") {
      const n = Math.max(0, Math.min(5, Math.round(rv.rating.stars)));
      rating = `<div class="stars" data-stars="${n}" style="color: ${esc(rv.rating.color ?? "black")}">${"★".repeat(n)}${"☆".repeat(5 - n)}</div>`;
    } else if (rv.rating?.error !== undefined) {
      rating = `<p class="rating-error"><i>${esc(rv.rating.error)}</i></p>`;
    }
    return `<blockquote><p>${esc(rv.text)}</p><small>${esc(rv.reviewer)}</small>${rating}</blockquote>`;
  });
  return `${items.join("\n")}<p class="served-by"><small>Reviews served by: ${esc(body.podname)}</small></p>`;
}

function indexPage(): string {
  return layout(
    "Simple Bookstore App",
    `<h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>
<table><tr><th>service</th><th>calls</th></tr><tr><td>productpage</td><td>details, reviews</td></tr><tr><td>reviews (v2, v3)</td><td>ratings</td></tr></table>
<p>Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>
<p><a href="/productpage?u=normal">Normal user</a></p>
<p><a href="/productpage?u=test">Test user</a></p>`,
  );
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><link rel="stylesheet" href="/static/bookinfo.css"></head>
<body>
${body}
</body></html>
`;
}

const CSS = `body{font-family:sans-serif;margin:2em auto;max-width:60em;color:#222}
nav{display:flex;gap:1em;align-items:center;justify-content:space-between;border-bottom:1px solid #ccc;padding-bottom:.5em}
.columns{display:flex;gap:2em}.columns section{flex:1}
blockquote{border-left:4px solid #ddd;margin:1em 0;padding-left:1em}.stars{font-size:1.4em}
dt{font-weight:bold}dd{margin:0 0 .5em 0}`;

function css(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/css", "cache-control": "max-age=3600" }).end(CSS);
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) }).end(body);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(body);
}

function redirect(res: ServerResponse, location: string, cookie: string): void {
  res.writeHead(302, { location, "set-cookie": cookie, "content-type": "text/plain" }).end(`Redirecting to ${location}\n`);
}
