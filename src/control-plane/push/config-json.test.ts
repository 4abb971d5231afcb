import assert from "node:assert/strict";
import { it } from "node:test";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { configDigest, configJson } from "./config-json.ts";

const shared = { name: "outbound|80||a", direction: "outbound", note: undefined, list: [1, undefined, "x\n"] };
const config = {
  version: "v3",
  node: { id: "sidecar~a.default", kind: "sidecar", labels: { "a\"b": "c" }, extra: undefined },
  listeners: [],
  routes: [{ name: "outbound", virtualHosts: [] }],
  clusters: [shared, shared],
  endpoints: { "outbound|80||a": [{ address: "10.0.0.1", port: 80 }], gone: undefined },
  telemetry: undefined,
} as unknown as ProxyConfig;

it("encodes exactly as JSON.stringify, with and without a replaced version, also on reuse", () => {
  for (let i = 0; i < 2; i++) {
    assert.equal(configJson(config), JSON.stringify(config));
    assert.equal(configJson(config, ""), JSON.stringify({ ...config, version: "" }));
  }
});

it("reuses the encoding of a part it has seen (parts must not be mutated)", () => {
  const c = { ...config, clusters: [{ ...shared }] } as unknown as ProxyConfig;
  const before = configJson(c);
  (c.clusters[0] as unknown as { name: string }).name = "changed";
  assert.equal(configJson(c), before);
  assert.notEqual(JSON.stringify(c), before);
});

it("digests by content: equal JSON, equal digest; any changed part or field, a new one", () => {
  const copy = JSON.parse(JSON.stringify(config)) as ProxyConfig;
  assert.equal(configDigest(copy, ""), configDigest(config, ""));
  assert.notEqual(configDigest(config), configDigest(config, ""));
  const changed = JSON.parse(JSON.stringify(config)) as ProxyConfig;
  (changed.endpoints["outbound|80||a"]![0] as { port: number }).port = 81;
  assert.notEqual(configDigest(changed, ""), configDigest(config, ""));
  const reordered = { ...copy, clusters: [{ ...copy.clusters[0]!, name: "b" }, copy.clusters[1]!] } as ProxyConfig;
  assert.notEqual(configDigest(reordered, ""), configDigest(config, ""));
});
