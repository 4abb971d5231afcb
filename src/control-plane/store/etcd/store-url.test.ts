import assert from "node:assert/strict";
import { it } from "node:test";
import { parseStoreUrl, StoreUrlError } from "./store-url.ts";

it("reads members and the key prefix of an etcd store URL", () => {
  assert.deepEqual(parseStoreUrl("etcd://127.0.0.1:2379"), { endpoints: ["http://127.0.0.1:2379"], tls: false, prefix: "/amime/", text: "etcd://127.0.0.1:2379" });
  assert.deepEqual(parseStoreUrl("etcd://a:1,b.example:2,[::1]:3/meshes/prod/").endpoints, ["http://a:1", "http://b.example:2", "http://[::1]:3"]);
  assert.equal(parseStoreUrl("etcd://a:1/meshes/prod/").prefix, "/meshes/prod/");
  assert.equal(parseStoreUrl("etcd://a:1/x").prefix, "/x/");
});

it("etcds:// is the same over TLS: https:// client URLs", () => {
  assert.deepEqual(parseStoreUrl("etcds://a:2379,b:2379/p"), { endpoints: ["https://a:2379", "https://b:2379"], tls: true, prefix: "/p/", text: "etcds://a:2379,b:2379/p" });
});

it("refuses what is not an etcd store URL, saying what was expected", () => {
  for (const bad of ["redis://a:1", "etcd://", "etcdss://a:1", "https://a:1", "etcd://a", "etcd://a:0", "etcd://a:1,,b:2", "127.0.0.1:2379"]) {
    assert.throws(() => parseStoreUrl(bad), (e: unknown) => e instanceof StoreUrlError && /expected etcd:\/\/HOST:PORT.*or etcds:\/\/ for TLS/.test(e.message), bad);
  }
});
