// An external authorizer for CUSTOM AuthorizationPolicies, behaving as Istio's samples/extauthz
// server (istio/istio samples/extauthz/cmd/extauthz/main.go @86c9f01fd735, Copyright Istio Authors,
// Apache License 2.0; rewritten in TypeScript, not copied): an HTTP check server and an Envoy
// ext_authz v3 gRPC server (envoy.service.auth.v3.Authorization/Check). A request is allowed when
// its `x-ext-authz` header is `allow`; without that header the gRPC check allows a source principal
// ending in `/sa/<ALLOW_SERVICE_ACCOUNT>` (default `a`). Allowed: `x-ext-authz-check-result: allowed`
// (HTTP: on the 200 answer; gRPC: a header for the upstream request). Denied: 403, the same header
// with `denied`, and the body below. Unlike the other samples it needs @grpc/grpc-js (a gRPC server).
//   HTTP_PORT (default 8000), GRPC_PORT (default 9000); 0 picks a free port, printed at start.
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { authorizationService } from "../../src/proxy/http/filters/ext-authz/grpc-check.ts";

const CHECK_HEADER = "x-ext-authz";
const ALLOWED_VALUE = "allow";
const RESULT_HEADER = "x-ext-authz-check-result";
const RECEIVED_HEADER = "x-ext-authz-check-received";
const OVERRIDE_HEADER = "x-ext-authz-additional-header-override";
const DENY_BODY = `denied by ext_authz for not found header \`${CHECK_HEADER}: ${ALLOWED_VALUE}\` in the request`;
const allowServiceAccount = process.env.ALLOW_SERVICE_ACCOUNT ?? "a";

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

// ---- HTTP ----
const httpServer = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const line = `${req.method} ${req.headers.host ?? ""}${req.url ?? ""}, headers: ${JSON.stringify(req.headers)}, body: [${body.length > 1024 ? `${body.slice(0, 1024)}…` : body}]`;
    const override = req.headers[OVERRIDE_HEADER];
    const common: Record<string, string> = { [RECEIVED_HEADER]: line.replace(/[\r\n]/g, " ") };
    if (typeof override === "string") common[OVERRIDE_HEADER] = override;
    if (req.headers[CHECK_HEADER] === ALLOWED_VALUE) {
      log(`[HTTP][allowed]: ${line}`);
      res.writeHead(200, { ...common, [RESULT_HEADER]: "allowed" }).end();
    } else {
      log(`[HTTP][denied]: ${line}`);
      res.writeHead(403, { ...common, [RESULT_HEADER]: "denied" }).end(DENY_BODY);
    }
  });
});

// ---- gRPC (Envoy ext_authz v3) ----
interface CheckRequest {
  attributes: {
    source: { principal: string } | null;
    request: { http: { headers: Record<string, string>; host: string; path: string; method: string } | null } | null;
  } | null;
}

const header = (key: string, value: string): object => ({ header: { key, value } });

function check(call: grpc.ServerUnaryCall<CheckRequest, unknown>, callback: grpc.sendUnaryData<unknown>): void {
  const attrs = call.request.attributes;
  const httpReq = attrs?.request?.http;
  const headers = httpReq?.headers ?? {};
  const line = `${httpReq?.method ?? ""} ${httpReq?.host ?? ""}${httpReq?.path ?? ""}, attributes: ${JSON.stringify(attrs)}`;
  const allow = CHECK_HEADER in headers ? headers[CHECK_HEADER] === ALLOWED_VALUE : (attrs?.source?.principal ?? "").endsWith(`/sa/${allowServiceAccount}`);
  const extra = [header(RECEIVED_HEADER, line.replace(/[\r\n]/g, " "))];
  if (headers[OVERRIDE_HEADER] !== undefined) extra.push(header(OVERRIDE_HEADER, headers[OVERRIDE_HEADER]));
  if (allow) {
    log(`[gRPCv3][allowed]: ${line}`);
    callback(null, { status: { code: grpc.status.OK }, ok_response: { headers: [header(RESULT_HEADER, "allowed"), ...extra] } });
  } else {
    log(`[gRPCv3][denied]: ${line}`);
    callback(null, { status: { code: grpc.status.PERMISSION_DENIED }, denied_response: { status: { code: 403 }, body: DENY_BODY, headers: [header(RESULT_HEADER, "denied"), ...extra] } });
  }
}

const pkg = authorizationService() as unknown as { envoy: { service: { auth: { v3: { Authorization: { service: grpc.ServiceDefinition } } } } } };
const grpcServer = new grpc.Server();
grpcServer.addService(pkg.envoy.service.auth.v3.Authorization.service, { Check: check });

httpServer.listen(Number(process.env.HTTP_PORT ?? 8000), process.env.HOST, () => {
  log(`Starting HTTP server at ${(httpServer.address() as AddressInfo).address}:${(httpServer.address() as AddressInfo).port}`);
});
grpcServer.bindAsync(`${process.env.HOST ?? "0.0.0.0"}:${process.env.GRPC_PORT ?? 9000}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) {
    process.stderr.write(`ext-authz: gRPC server: ${err.message}\n`);
    process.exit(1);
  }
  log(`Starting gRPC server at ${process.env.HOST ?? "0.0.0.0"}:${port}`);
});

const stop = (): void => {
  httpServer.close();
  grpcServer.tryShutdown(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
