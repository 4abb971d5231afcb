import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileJsonFormat, compileTextFormat, formatJson, ISTIO_TEXT_FORMAT } from "./format.ts";
import type { AccessLogEntry } from "./log-entry.ts";

function entry(o: Partial<AccessLogEntry> = {}, headers: Record<string, string> = {}): AccessLogEntry {
  return {
    startWallMs: Date.UTC(2020, 10, 25, 21, 26, 18, 409),
    method: "GET",
    path: "/status/418",
    protocol: "HTTP/1.1",
    status: 418,
    flags: "-",
    details: "via_upstream",
    bytesReceived: 0,
    bytesSent: 135,
    durationMs: 4.4,
    upstreamServiceTimeMs: 4,
    authority: "httpbin:8000",
    requestId: "84961386-6d84-929d-98bd-c5aee93b5c88",
    upstreamHost: "10.44.1.27:80",
    upstreamCluster: "outbound|8000||httpbin.foo.svc.cluster.local",
    routeName: "default",
    downstreamRemoteAddress: "10.44.1.23",
    downstreamPeerUriSan: "",
    upstreamPeerUriSan: "",
    traceId: "",
    header: (n) => headers[n],
    ...o,
  };
}

describe("access log text format", () => {
  it("renders Istio's default line (Istio docs example shape)", () => {
    const line = compileTextFormat(ISTIO_TEXT_FORMAT)(entry({}, { "user-agent": "curl/7.73.0-DEV" }));
    assert.equal(
      line,
      '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local - - 10.44.1.23 - default\n',
    );
  });

  it("uses X-ENVOY-ORIGINAL-PATH when present, dashes for empty values, flags as given", () => {
    const f = compileTextFormat(ISTIO_TEXT_FORMAT);
    const line = f(entry({ status: 503, flags: "UF,URX", upstreamServiceTimeMs: undefined, upstreamHost: "" }, { "x-envoy-original-path": "/orig" }));
    assert.match(line, /^\[[^\]]+\] "GET \/orig HTTP\/1\.1" 503 UF,URX via_upstream - "-" 0 135 4 - "-" "-" /);
    assert.match(line, / "httpbin:8000" "-" outbound/);
  });

  it("UPSTREAM_PEER_URI_SAN: the verified upstream server certificate's URI SAN, - without TLS", () => {
    const f = compileTextFormat("%UPSTREAM_PEER_URI_SAN%");
    assert.equal(f(entry({ upstreamPeerUriSan: "spiffe://cluster.local/ns/default/sa/httpbin" })), "spiffe://cluster.local/ns/default/sa/httpbin\n");
    assert.equal(f(entry({ upstreamPeerUriSan: "" })), "-\n");
  });

  it("DOWNSTREAM_PEER_URI_SAN: the verified client certificate's URI SAN, - without mTLS", () => {
    const f = compileTextFormat("%DOWNSTREAM_PEER_URI_SAN%");
    assert.equal(f(entry({ downstreamPeerUriSan: "spiffe://cluster.local/ns/default/sa/sleep" })), "spiffe://cluster.local/ns/default/sa/sleep\n");
    assert.equal(f(entry({ downstreamPeerUriSan: "" })), "-\n");
  });

  it("supports custom formats, truncation, %% and keeps unknown operators literally", () => {
    const f = compileTextFormat("%REQ(:METHOD)% %REQ(USER-AGENT):4% 100%% %NOT_A_THING% %REQ(X-MISSING?USER-AGENT)%");
    assert.equal(f(entry({}, { "user-agent": "Mozilla/5.0" })), "GET Mozi 100% %NOT_A_THING% Mozilla/5.0\n");
  });
});

describe("access log JSON format", () => {
  it("has the documented fields with numbers as numbers and null for missing", () => {
    const o = JSON.parse(formatJson(entry({ traceId: "abc" }, { "x-forwarded-for": "1.2.3.4", "user-agent": "ua" }))) as Record<string, unknown>;
    assert.deepEqual(o, {
      start_time: "2020-11-25T21:26:18.409Z",
      method: "GET",
      path: "/status/418",
      protocol: "HTTP/1.1",
      response_code: 418,
      response_flags: "-",
      response_code_details: "via_upstream",
      bytes_received: 0,
      bytes_sent: 135,
      duration: 4,
      upstream_service_time: 4,
      x_forwarded_for: "1.2.3.4",
      user_agent: "ua",
      request_id: "84961386-6d84-929d-98bd-c5aee93b5c88",
      authority: "httpbin:8000",
      upstream_host: "10.44.1.27:80",
      upstream_cluster: "outbound|8000||httpbin.foo.svc.cluster.local",
      route_name: "default",
      downstream_remote_address: "10.44.1.23",
      trace_id: "abc",
    });
    const empty = JSON.parse(formatJson(entry({ upstreamHost: "", upstreamServiceTimeMs: undefined }))) as Record<string, unknown>;
    assert.equal(empty.upstream_host, null);
    assert.equal(empty.upstream_service_time, null);
    assert.equal(empty.user_agent, null);
  });

  it("custom labels (Envoy's JSON format): a sole operator keeps its type, unset is null, mixed strings are format strings, other JSON passes", () => {
    const f = compileJsonFormat({ code: "%RESPONSE_CODE%", ua: "%REQ(USER-AGENT)%", xff: "%REQ(X-FORWARDED-FOR)%", line: "%REQ(:METHOD)% %REQ(:PATH)%", bytes: "%BYTES_SENT%", short: "%REQ(USER-AGENT):3%", nested: { route: "%ROUTE_NAME%", fixed: 7 }, on: true });
    const line = f(entry({}, { "user-agent": "curl/8.0" }));
    assert.ok(line.endsWith("}\n"));
    assert.deepEqual(JSON.parse(line), { code: 418, ua: "curl/8.0", xff: null, line: "GET /status/418", bytes: 135, short: "cur", nested: { route: "default", fixed: 7 }, on: true });
  });

  it("empty labels mean the default JSON fields", () => {
    assert.equal(compileJsonFormat({}), formatJson);
  });
});
