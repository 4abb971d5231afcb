import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeaderPatterns } from "./check.ts";
import { checkRequest, outcome } from "./grpc-check.ts";

describe("ext_authz check parts", () => {
  it("header patterns: exact, x* prefix, *x suffix, case-insensitive (Istio's envoyExtAuthzHttp lists)", () => {
    const p = new HeaderPatterns(["X-Ext-Authz", "x-auth-*", "*-user"]);
    for (const n of ["x-ext-authz", "X-EXT-AUTHZ", "x-auth-request-email", "x-forwarded-user"]) assert.equal(p.matches(n), true, n);
    for (const n of ["x-ext-authz2", "x-auth", "user", "authorization"]) assert.equal(p.matches(n), false, n);
    assert.equal(new HeaderPatterns([]).empty, true);
  });

  it("a gRPC CheckResponse: OK → headers up (append when asked), removals (never Host or pseudo-headers), response headers down", () => {
    const o = outcome({
      status: { code: 0, message: "" },
      ok_response: {
        headers: [{ header: { key: "X-User", value: "alice" }, append: null, append_action: 0 }, { header: { key: "x-tag", value: "b" }, append: { value: true }, append_action: 0 }],
        headers_to_remove: ["Authorization", "host", ":path"],
        response_headers_to_add: [{ header: { key: "set-cookie", value: "s=1" }, append: null, append_action: 0 }],
      },
    });
    assert.deepEqual(o, { kind: "ok", upstreamHeaders: [["x-user", "alice", false], ["x-tag", "b", true]], removeHeaders: ["authorization"], downstreamHeaders: [["set-cookie", "s=1"]] });
  });

  it("a gRPC CheckResponse: not OK → denied_response's status (403 when unset), headers and body", () => {
    assert.deepEqual(outcome({ status: { code: 7, message: "" }, denied_response: { status: { code: 401 }, headers: [{ header: { key: "www-authenticate", value: "Bearer" }, append: null, append_action: 0 }], body: "no" } }),
      { kind: "denied", status: 401, headers: [["www-authenticate", "Bearer"]], body: "no" });
    assert.deepEqual(outcome({ status: { code: 7, message: "" }, denied_response: null }), { kind: "denied", status: 403, headers: [], body: "" });
  });

  it("a CheckRequest carries every header with Envoy's pseudo-headers, the peers and the body only when asked", () => {
    const input = {
      method: "POST", path: "/a?b=1", authority: "httpbin.foo:8000", scheme: "http" as const, protocol: "HTTP/1.1" as const, requestId: "r1",
      headers: new Map([["host", "httpbin.foo:8000"], ["x-ext-authz", "allow"]]), body: Buffer.from("hi"), packAsBytes: false,
      sourceAddress: "10.0.0.1", sourcePort: 5000, sourcePrincipal: "spiffe://cluster.local/ns/foo/sa/curl", destinationAddress: "10.0.0.2", destinationPort: 8000, destinationPrincipal: "",
    };
    const r = checkRequest(input) as { attributes: { source: unknown; request: { http: Record<string, unknown> } } };
    assert.deepEqual(r.attributes.request.http.headers, { ":authority": "httpbin.foo:8000", ":method": "POST", ":path": "/a?b=1", ":scheme": "http", "x-ext-authz": "allow" });
    assert.equal(r.attributes.request.http.body, "hi");
    assert.deepEqual(r.attributes.source, { address: { socket_address: { address: "10.0.0.1", port_value: 5000 } }, principal: "spiffe://cluster.local/ns/foo/sa/curl" });
    const bytes = checkRequest({ ...input, packAsBytes: true }) as { attributes: { request: { http: Record<string, unknown> } } };
    assert.deepEqual(bytes.attributes.request.http.raw_body, Buffer.from("hi"));
  });
});
