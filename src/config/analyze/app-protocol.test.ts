import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { appProtocolCheck } from "./app-protocol.ts";
import { findings, service, summary } from "./harness.ts";

describe("app-protocol check", () => {
  it("`appProtocol: h2c` overriding a grpc port name is AMM1016, with kubernetes.io/h2c suggested", () => {
    const ds = findings([service("echo", { ports: [{ name: "grpc", port: 9000, appProtocol: "h2c" }] })], appProtocolCheck);
    assert.deepEqual(summary(ds), ["AMM1016 warning spec.ports[0].appProtocol"]);
    assert.match(ds[0]?.message ?? "", /^appProtocol "h2c" is not a protocol Istio knows .* It replaces the protocol of the port name "grpc" \(grpc\), so the port is treated as undeclared: .*\(502\)\. Did you mean "kubernetes\.io\/h2c"\?$/);
  });

  it("Istio's values, Kubernetes' standard names and known prefixes are fine; UDP ports and unset values are not judged", () => {
    const ports: JsonObject[] = [
      { name: "a", port: 1, appProtocol: "kubernetes.io/h2c" }, { name: "b", port: 2, appProtocol: "kubernetes.io/ws" },
      { name: "c", port: 3, appProtocol: "kubernetes.io/wss" }, { name: "d", port: 4, appProtocol: "HTTP2" },
      { name: "e", port: 5, appProtocol: "grpc-web" }, { name: "f", port: 6, appProtocol: "redis" }, { name: "g", port: 7, appProtocol: "http-alt" },
      { name: "dns", port: 53, protocol: "UDP", appProtocol: "dns" }, { name: "http", port: 80 },
    ];
    assert.deepEqual(summary(findings([service("ok", { ports })], appProtocolCheck)), []);
  });

  it("an unknown value on a port whose name declares nothing is info only", () => {
    const ds = findings([service("x", { ports: [{ name: "web", port: 8080, appProtocol: "example.com/custom" }] })], appProtocolCheck);
    assert.deepEqual(summary(ds), ["AMM1016 info spec.ports[0].appProtocol"]);
  });
});
