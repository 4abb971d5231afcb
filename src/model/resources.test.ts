import assert from "node:assert/strict";
import { it } from "node:test";
import type { ProxyConfig } from "./proxy-config.ts";
import { assembleConfig, forEachResource, RESOURCE_TYPES, type ResourceType } from "./resources.ts";

const vh = (name: string) => ({ name, domains: [name], routes: [] });
const config = {
  version: "v3",
  node: { id: "n" },
  listeners: [{ name: "outbound" }],
  routes: [{ name: "inbound|9080", virtualHosts: [vh("inbound")] }, { name: "outbound", virtualHosts: [vh("z.svc"), vh("a.svc")] }],
  clusters: [{ name: "outbound|9080||a.svc" }],
  endpoints: { "outbound|9080||a.svc": [{ address: "10.0.0.1", port: 9080 }] },
  telemetry: { metricsPort: 15090 },
  trustBundle: ["PEM"],
  overload: undefined,
} as unknown as ProxyConfig;

function split(c: ProxyConfig): Map<ResourceType, Map<string, unknown>> {
  const out = new Map<ResourceType, Map<string, unknown>>();
  for (const t of RESOURCE_TYPES) {
    const m = new Map<string, unknown>();
    forEachResource(c, t, (n, r) => m.set(n, r));
    out.set(t, m);
  }
  return out;
}

it("splits a config into named resources: virtual hosts apart from their route configuration, fields as secret or bootstrap", () => {
  const r = split(config);
  assert.deepEqual([...r.get("route")!], [["inbound|9080", { name: "inbound|9080", virtualHostNames: ["inbound"] }], ["outbound", { name: "outbound", virtualHostNames: ["z.svc", "a.svc"] }]]);
  assert.deepEqual([...r.get("virtual_host")!.keys()], ["inbound|9080/inbound", "outbound/z.svc", "outbound/a.svc"]);
  assert.deepEqual([...r.get("secret")!.keys()], ["trustBundle"]);
  assert.deepEqual([...r.get("bootstrap")!.keys()], ["node", "telemetry"], "an undefined field is no resource");
  let a: unknown, b: unknown;
  forEachResource(config, "route", (_n, x) => (a ??= x));
  forEachResource(config, "route", (_n, x) => (b ??= x));
  assert.equal(a, b, "the same route resource object each time (its version is computed once)");
});

it("assembles the same config back, virtual hosts in their route configuration's order", () => {
  assert.deepEqual(assembleConfig("v3", split(config)), JSON.parse(JSON.stringify(config)));
});

it("a route configuration naming a virtual host that is not there cannot be assembled", () => {
  const r = split(config);
  r.get("virtual_host")!.delete("outbound/a.svc");
  assert.throws(() => assembleConfig("v3", r), /route "outbound": virtual host "a\.svc" was not received/);
});
