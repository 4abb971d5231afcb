// Under `amime up` the apps get HTTP_PROXY (their sidecar) and NODE_USE_ENV_PROXY=1 and call
// services by plain name. This checks, with a forward proxy standing in for the sidecar, that
// productpage's calls then leave as absolute-form requests to http://details:9080/… and
// http://reviews:9080/…, and that the page is built from what the proxy routed.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { request, startSample, type SampleProcess } from "./sample-process.ts";

let details: SampleProcess, reviews: SampleProcess, ratings: SampleProcess, productpage: SampleProcess;
let proxy: http.Server;
const seen: string[] = [];
const connects: string[] = [];

before(async () => {
  [details, ratings] = await Promise.all([startSample("samples/bookinfo/apps/details.ts"), startSample("samples/bookinfo/apps/ratings.ts")]);
  const routes: Record<string, number> = { "details:9080": details.port, "ratings:9080": ratings.port };
  proxy = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end("origin-form request: not sent through a proxy\n");
      return;
    }
    const port = routes[target.host];
    if (port === undefined) {
      res.writeHead(502).end(`no route to ${target.host}\n`);
      return;
    }
    const up = http.request({ host: "127.0.0.1", port, method: req.method, path: target.pathname + target.search, headers: req.headers, agent: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  proxy.on("connect", (req, socket) => {
    connects.push(req.url ?? "");
    socket.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const meshEnv = { HTTP_PROXY: proxyUrl, http_proxy: proxyUrl, NODE_USE_ENV_PROXY: "1", NO_PROXY: "", no_proxy: "" };
  // reviews v2 and productpage keep their default service URLs: only the proxy knows where they are.
  reviews = await startSample("samples/bookinfo/apps/reviews.ts", { REVIEWS_VERSION: "v2", ...meshEnv });
  routes["reviews:9080"] = reviews.port;
  productpage = await startSample("samples/bookinfo/apps/productpage.ts", meshEnv);
});

after(async () => {
  await Promise.all([details, reviews, ratings, productpage].map((p) => p.stop()));
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
});

test("productpage and reviews reach details, reviews and ratings by name through HTTP_PROXY", async () => {
  const page = await request(`${productpage.url}/productpage`, { headers: { "x-request-id": "via-proxy" } });
  assert.equal(page.status, 200, page.body);
  assert.deepEqual(connects, [], "no CONNECT tunnels: the sidecar must see each request");
  assert.ok(seen.includes("GET http://details:9080/details/0"), seen.join("\n"));
  assert.ok(seen.includes("GET http://reviews:9080/reviews/0"), seen.join("\n"));
  assert.ok(seen.includes("GET http://ratings:9080/ratings/0"), seen.join("\n"));
  assert.match(page.body, /PublisherA/);
  assert.match(page.body, /data-stars="5" style="color: black"/);
});
