import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostsFile, namesOf, resolvConf } from "./pod-dns.ts";

describe("pod DNS files", () => {
  it("names a Kubernetes service as cluster DNS does: the short name only in the pod's own namespace", () => {
    assert.deepEqual(namesOf("reviews.default.svc.cluster.local", "default", "cluster.local"), ["reviews", "reviews.default", "reviews.default.svc", "reviews.default.svc.cluster.local"]);
    assert.deepEqual(namesOf("reviews.default.svc.cluster.local", "other", "cluster.local"), ["reviews.default", "reviews.default.svc", "reviews.default.svc.cluster.local"]);
    assert.deepEqual(namesOf("www.google.com", "default", "cluster.local"), ["www.google.com"]);
  });

  it("the hosts file maps every VIP and leaves wildcard hosts out", () => {
    const text = hostsFile({ name: "curl-0", ip: "10.200.1.2", namespace: "default" }, [{ host: "redis.default.svc.cluster.local", vip: "10.200.128.2" }, { host: "*.example.com", vip: "10.200.128.9" }], "cluster.local");
    assert.match(text, /^10\.200\.128\.2\tredis redis\.default redis\.default\.svc redis\.default\.svc\.cluster\.local$/m);
    assert.match(text, /^10\.200\.1\.2\tcurl-0$/m);
    assert.doesNotMatch(text, /example\.com/);
  });

  it("resolv.conf carries Kubernetes' search path", () => {
    assert.match(resolvConf("bookinfo", "cluster.local"), /^search bookinfo\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
  });
});
