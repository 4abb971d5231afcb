// Every HTTP listener translation produces carries its HTTP filter list in Istio's order (today
// cors → fault → router; the security filters go in front), and TCP listeners carry none.
import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "./index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

test("outbound, inbound and auto listeners run cors → fault → router; TCP listeners run no HTTP filters", () => {
  const snap = snapshotFrom(k8sService("u", "default", [{ name: "", port: 7000 }, { name: "http", port: 7001 }, { name: "tcp-db", port: 7002 }]), [inst("u", "v1", "127.0.0.1")]);
  const cfg = translate(snap, sidecarProxy({ app: "u" }));
  const names = (name: string): string[] | undefined => cfg.listeners.find((l) => l.name === name)?.httpFilters?.map((f) => f.name);
  assert.deepEqual(names("outbound"), ["cors", "fault", "router"]);
  assert.deepEqual(names("inbound|7001"), ["cors", "fault", "router"]);
  assert.deepEqual(names("inbound|7000"), ["cors", "fault", "router"]);
  assert.equal(cfg.listeners.find((l) => l.name === "inbound|7002")?.httpFilters, undefined);
});

test("gateway listeners run the same list", () => {
  const yaml = JSON.stringify({
    apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "gw" },
    spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["*"] }] },
  }) + "\n";
  const cfg = translate(snapshotFrom(yaml), { ...sidecarProxy({ istio: "ingressgateway" }), kind: "gateway" });
  assert.deepEqual(cfg.listeners[0]?.httpFilters, [{ name: "cors" }, { name: "fault" }, { name: "router" }]);
});

test("an AuthorizationPolicy puts the rbac network filter before tcp_proxy on inbound TCP and auto listeners (same config as HTTP); none without one", () => {
  const svc = k8sService("u", "default", [{ name: "", port: 7000 }, { name: "http", port: 7001 }, { name: "tcp-db", port: 7002 }]);
  const none = translate(snapshotFrom(svc, [inst("u", "v1", "127.0.0.1")]), sidecarProxy({ app: "u" }));
  assert.deepEqual(none.listeners.filter((l) => l.networkFilters !== undefined).map((l) => l.name), []);
  const policy = JSON.stringify({
    apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "tcp", namespace: "default" },
    spec: { selector: { matchLabels: { app: "u" } }, action: "ALLOW", rules: [{ to: [{ operation: { ports: ["7002"] } }] }] },
  }) + "\n";
  const cfg = translate(snapshotFrom(svc + policy, [inst("u", "v1", "127.0.0.1")]), sidecarProxy({ app: "u" }));
  const nf = (name: string): string[] | undefined => cfg.listeners.find((l) => l.name === name)?.networkFilters?.map((f) => f.name);
  assert.deepEqual(nf("inbound|7002"), ["rbac", "tcp_proxy"]);
  assert.deepEqual(nf("inbound|7000"), ["rbac", "tcp_proxy"]);
  assert.equal(nf("inbound|7001"), undefined);
  assert.equal(nf("outbound"), undefined);
  const http = cfg.listeners.find((l) => l.name === "inbound|7001")?.httpFilters?.find((f) => f.name === "rbac");
  assert.deepEqual(cfg.listeners.find((l) => l.name === "inbound|7002")?.networkFilters?.[0], http);
  assert.equal(cfg.listeners.some((l) => l.direction === "outbound" && l.networkFilters !== undefined), false);
});
