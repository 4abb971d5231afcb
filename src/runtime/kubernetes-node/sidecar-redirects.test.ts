import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serviceRules } from "../netns/capture-rules.ts";
import { clusterIPv4s, sidecarRedirects } from "./sidecar-redirects.ts";

describe("sidecarRedirects", () => {
  const vips = new Map([
    ["tcp-echo.shop", ["10.96.0.20"]],
    ["db.data", ["10.96.0.31", "10.96.0.32"]],
  ]);

  it("one redirect per outbound TCP listener and cluster IP; HTTP and inbound listeners are not services", () => {
    const { redirects, unmatched } = sidecarRedirects(
      [
        { name: "virtualOutbound", port: 15001 },
        { name: "virtualInbound", port: 15006 },
        { name: "outbound_tcp|9000|tcp-echo.shop.svc.cluster.local", port: 15200 },
        { name: "outbound_tcp|5432|db.data.svc.cluster.local", port: 15201 },
      ],
      vips,
      "cluster.local",
    );
    assert.deepEqual(redirects, [
      { vip: "10.96.0.20", port: 9000, localPort: 15200 },
      { vip: "10.96.0.31", port: 5432, localPort: 15201 },
      { vip: "10.96.0.32", port: 5432, localPort: 15201 },
    ]);
    assert.deepEqual(unmatched, []);
    assert.equal(
      serviceRules(redirects),
      "*nat\n:AMIME_SERVICES - [0:0]\n" +
        "-A AMIME_SERVICES -d 10.96.0.20/32 -p tcp --dport 9000 -j REDIRECT --to-ports 15200\n" +
        "-A AMIME_SERVICES -d 10.96.0.31/32 -p tcp --dport 5432 -j REDIRECT --to-ports 15201\n" +
        "-A AMIME_SERVICES -d 10.96.0.32/32 -p tcp --dport 5432 -j REDIRECT --to-ports 15201\nCOMMIT\n",
    );
  });

  it("a ServiceEntry host, an unknown or headless Service, another domain suffix: no VIP, reported", () => {
    const { redirects, unmatched } = sidecarRedirects(
      [
        { name: "outbound_tcp|27017|mongo.example.com", port: 15202 },
        { name: "outbound_tcp|9000|gone.shop.svc.cluster.local", port: 15203 },
        { name: "outbound_tcp|9000|tcp-echo.shop.svc.other.local", port: 15204 },
      ],
      vips,
      "cluster.local",
    );
    assert.deepEqual(redirects, []);
    assert.deepEqual(unmatched, ["gone.shop.svc.cluster.local:9000", "mongo.example.com:27017", "tcp-echo.shop.svc.other.local:9000"]);
  });

  it("rows that are not ports are skipped, the others kept", () => {
    const { redirects } = sidecarRedirects(
      [
        { name: "outbound_tcp|x|tcp-echo.shop.svc.cluster.local", port: 15200 },
        { name: "outbound_tcp|9000|tcp-echo.shop.svc.cluster.local", port: 1.5 },
        { name: "outbound_tcp|70000|tcp-echo.shop.svc.cluster.local", port: 15201 },
        { name: "outbound_tcp|9000", port: 15202 },
        { name: "outbound_tcp|9001|tcp-echo.shop.svc.cluster.local", port: 15203 },
      ],
      vips,
      "cluster.local",
    );
    assert.deepEqual(redirects, [{ vip: "10.96.0.20", port: 9001, localPort: 15203 }]);
  });

  it("clusterIPv4s: clusterIPs first, IPv4 only, None (headless) is none", () => {
    assert.deepEqual(clusterIPv4s({ clusterIP: "10.96.0.1", clusterIPs: ["10.96.0.1", "fd00::1"] }), ["10.96.0.1"]);
    assert.deepEqual(clusterIPv4s({ clusterIP: "10.96.0.2" }), ["10.96.0.2"]);
    assert.deepEqual(clusterIPv4s({ clusterIP: "None", clusterIPs: ["None"] }), []);
    assert.deepEqual(clusterIPv4s(undefined), []);
  });
});
