// GET a JSON resource from another service, with a deadline.
//
// This uses node:http, not fetch(), on purpose: under a local mesh the app runs with HTTP_PROXY and
// NODE_USE_ENV_PROXY=1. node:http's global agent then sends `GET http://reviews:9080/… HTTP/1.1`
// (absolute-form) to the sidecar, which routes it. Node 24's fetch() instead opens a CONNECT tunnel
// even for http:// URLs, which hides the request from the sidecar. Only the global agent honours
// the proxy variables, so no custom Agent is passed here.
import http from "node:http";

export interface JsonResponse {
  status: number;
  /** The parsed body, or undefined when it was not JSON. */
  body: unknown;
}

export class UpstreamError extends Error {
  readonly code: "UPSTREAM_TIMEOUT" | "UPSTREAM_UNREACHABLE";
  constructor(code: "UPSTREAM_TIMEOUT" | "UPSTREAM_UNREACHABLE", message: string) {
    super(message);
    this.code = code;
  }
}

/** Resolves with any HTTP status; rejects only when no response arrives within `timeoutMs`. */
export function getJson(url: string, headers: Record<string, string>, timeoutMs: number): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: "application/json", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", fail);
    });
    const timer = setTimeout(() => {
      req.destroy(new UpstreamError("UPSTREAM_TIMEOUT", `GET ${url}: no response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", fail);
    function fail(e: Error): void {
      clearTimeout(timer);
      reject(e instanceof UpstreamError ? e : new UpstreamError("UPSTREAM_UNREACHABLE", `GET ${url}: ${e.message}`));
    }
  });
}
