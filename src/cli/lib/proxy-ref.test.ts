import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProxyStatus } from "../../model/wire.ts";
import { instanceOf, matchProxy } from "./proxy-ref.ts";

const p = (node: string, workload: string, namespace = "default"): ProxyStatus => ({
  node, workload, namespace, connected: true, sentVersion: null, ackedVersion: null, state: "NOT SENT", lastSeen: "",
});
const LIST = [p("sidecar~reviews-v1-1.default", "reviews-v1"), p("sidecar~reviews-v1-0.default", "reviews-v1"), p("sidecar~reviews-v1-0.shop", "reviews-v1", "shop"), p("router~gw-0.istio-system", "gw", "istio-system")];

test("matchProxy: node id, then instance name (with .namespace), then workload name (first instance)", () => {
  assert.equal(instanceOf("sidecar~a.b-0.ns").name, "a.b-0");
  assert.equal(matchProxy(LIST, "sidecar~reviews-v1-0.shop")?.node, "sidecar~reviews-v1-0.shop");
  assert.equal(matchProxy(LIST, "reviews-v1-1")?.node, "sidecar~reviews-v1-1.default");
  assert.equal(matchProxy(LIST, "reviews-v1-0.shop")?.node, "sidecar~reviews-v1-0.shop");
  assert.equal(matchProxy(LIST, "reviews-v1-0", "shop")?.node, "sidecar~reviews-v1-0.shop");
  assert.equal(matchProxy(LIST, "reviews-v1")?.node, "sidecar~reviews-v1-0.default");
  assert.equal(matchProxy(LIST, "gw")?.node, "router~gw-0.istio-system");
  assert.equal(matchProxy(LIST, "reviews"), undefined);
  assert.equal(matchProxy(LIST, "gw", "default"), undefined);
});
