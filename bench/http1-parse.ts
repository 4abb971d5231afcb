// Micro benchmark of the sidecar's HTTP/1.1 codec (not part of the test suite):
//   node_modules/.bin/node bench/http1-parse.ts
// Prints ns per operation for a typical 8-header request: parse, parse + serialize upstream head,
// and chunked pass-through. Compare runs on the same machine only (this VM varies up to 2×).

import { ChunkedDecoder, compileHeaderNames, parseRequestHead, parseResponseHead, serializeRequestHead, serializeResponseHead } from "../src/proxy/http1/index.ts";
import type { RequestHead, ResponseHead } from "../src/proxy/http1/index.ts";
import { measure } from "./lib/micro.ts";

const REQUEST = Buffer.from(
  "GET /api/v1/reviews/0?user=alice HTTP/1.1\r\n" +
    "Host: reviews.default.svc.cluster.local:9080\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\n" +
    "Accept: application/json, text/plain, */*\r\n" +
    "Accept-Encoding: gzip, deflate\r\n" +
    "Accept-Language: en-US,en;q=0.9\r\n" +
    "Connection: keep-alive\r\n" +
    "X-Request-Id: 4b0b1cc6-3f7e-4a0f-9d3c-2c7a3b8f1e55\r\n" +
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n" +
    "\r\n",
  "latin1",
);
const RESPONSE = Buffer.from(
  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 358\r\nDate: Wed, 25 Nov 2026 12:00:00 GMT\r\nServer: app\r\n\r\n",
  "latin1",
);
// A reused read buffer much larger than the message, as the proxy has.
const READ = Buffer.alloc(64 * 1024);
REQUEST.copy(READ, 0);
const DROP = compileHeaderNames(["x-forwarded-for", "x-forwarded-proto"]);
const EXTRA: Array<[string, string]> = [
  ["x-forwarded-for", "10.0.0.7"],
  ["x-forwarded-proto", "http"],
];
const CHUNKED = Buffer.from(Array.from({ length: 16 }, () => "100\r\n" + "x".repeat(256) + "\r\n").join("") + "0\r\n\r\n", "latin1");

const N = 1_000_000;
measure("parseRequestHead (8 headers, 64 KiB read buffer)", N, () => parseRequestHead(READ, 0, REQUEST.length));
const head = parseRequestHead(READ, 0, REQUEST.length) as RequestHead;
measure("  + get('host') + get('x-request-id')", N, () => {
  const h = parseRequestHead(READ, 0, REQUEST.length) as RequestHead;
  return (h.get("x-request-id")?.length ?? 0) + h.authority.length;
});
measure("serializeRequestHead (drop 2, add 2)", N, () => serializeRequestHead(head, { host: "reviews:9080", drop: DROP, extra: EXTRA }));
measure("parse + serialize request", N, () =>
  serializeRequestHead(parseRequestHead(READ, 0, REQUEST.length) as RequestHead, { drop: DROP, extra: EXTRA }),
);
const rhead = parseResponseHead(RESPONSE, 0, RESPONSE.length, "GET") as ResponseHead;
measure("parseResponseHead (4 headers)", N, () => parseResponseHead(RESPONSE, 0, RESPONSE.length, "GET"));
const UST: Array<[string, string]> = [["x-envoy-upstream-service-time", "3"]];
measure("serializeResponseHead (+1 header)", N, () => serializeResponseHead(rhead, { extra: UST }));
const dec = new ChunkedDecoder();
measure(`ChunkedDecoder pass-through (${CHUNKED.length} B, 16 chunks)`, N / 10, () => {
  dec.reset();
  return dec.execute(CHUNKED, 0, CHUNKED.length);
});
