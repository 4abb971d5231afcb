// Read-only endpoints (the status and Prometheus listeners, as Envoy's): GET and HEAD pass.
import type { SmallRequest, SmallResponse } from "./server.ts";

const METHOD_NOT_ALLOWED: SmallResponse = Object.freeze({ status: 405, body: "method not allowed\n", headers: [["allow", "GET, HEAD"]] as const });

/** null for GET and HEAD (go on), else the 405 answer with `allow`. */
export function readOnly(req: SmallRequest): SmallResponse | null {
  return req.method === "GET" || req.method === "HEAD" ? null : METHOD_NOT_ALLOWED;
}
