import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { translate } from "./index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const services = k8sService("web", "default", [{ name: "http", port: 80, targetPort: 8080 }]) + k8sService("db", "default", [{ name: "tcp", port: 5432 }]);
const instances = [inst("web", "v1", "127.0.0.1", { name: "web-0", ports: { "8080": 21001 }, appPorts: { "8080": 21000 } })];
const proxy = sidecarProxy({ app: "web", version: "v1" }, "default", { id: "sidecar~web-0.default", outboundPort: 21002 });

describe("proxy limits from MeshConfig defaultConfig.runtimeValues", () => {
  it("defaults: Istio's global connection limit (2147483647), a 10 s request-head timeout on HTTP listeners, no listener limit", () => {
    const cfg = translate(snapshotFrom(services, instances), proxy);
    assert.deepEqual(cfg.overload, { globalDownstreamMaxConnections: 2147483647 });
    assert.deepEqual(cfg.listeners.map((l) => [l.name, l.protocol, l.requestHeadersTimeoutMs, l.connectionLimit]), [
      ["inbound|21001", "http", 10000, undefined],
      ["outbound", "http", 10000, undefined],
      ["outbound_tcp|5432|db.default.svc.cluster.local", "tcp", undefined, undefined],
    ]);
  });

  it("runtime keys: overload.global_downstream_max_connections, a listener's connection_limit, amime.request_headers_timeout_ms (0 = off)", () => {
    const runtimeValues = {
      "overload.global_downstream_max_connections": "50000",
      "envoy.resource_limits.listener.outbound.connection_limit": "1000",
      "amime.request_headers_timeout_ms": "0",
    };
    const cfg = translate(snapshotFrom(services, instances, { mesh: { config: { defaultConfig: { runtimeValues } } } }), proxy);
    assert.deepEqual(cfg.overload, { globalDownstreamMaxConnections: 50000 });
    assert.deepEqual(cfg.listeners.map((l) => [l.name, l.requestHeadersTimeoutMs, l.connectionLimit]), [
      ["inbound|21001", undefined, undefined],
      ["outbound", undefined, 1000],
      ["outbound_tcp|5432|db.default.svc.cluster.local", undefined, undefined],
    ]);
  });
});
