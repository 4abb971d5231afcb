// Stage: HTTP/1.1 off the request path — the server of the admin, status and Prometheus listeners
// and the client of the exports and control-plane calls, on node:net / node:tls and the proxy's own
// codec (http1/), so that a sidecar never loads node:http (issue 15).
export { SmallHttpServer, type SmallHandler, type SmallRequest, type SmallResponse } from "./server.ts";
export { SmallHttpClient, SmallHttpError, type SmallHttpRequest, type SmallHttpResponse } from "./client.ts";
export { readOnly } from "./read-only.ts";
