import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { captureAnnotations, CaptureAnnotationError, captureRules, serviceRules } from "./capture-rules.ts";

const base = {
  podIp: "10.200.1.5",
  nodeIp: "10.200.0.1",
  inbound: new Map([[9080, 15006]]),
  inboundListenerPorts: [15006],
  excludeOutboundPorts: [],
  excludeInboundPorts: [],
  excludeOutboundIPRanges: [],
  services: [{ vip: "10.200.128.3", port: 6379, localPort: 15200 }],
};

describe("captureRules", () => {
  it("redirects outbound TCP to 15001 after the proxy's UID/GID 1337, loopback and the service redirects", () => {
    const out = captureRules(base).split("\n");
    const o = (rule: string): number => out.indexOf(rule);
    assert.ok(o("-A AMIME_OUTPUT -m owner --uid-owner 1337 -j RETURN") > 0);
    assert.ok(o("-A AMIME_OUTPUT -m owner --gid-owner 1337 -j RETURN") > 0);
    assert.ok(o("-A AMIME_OUTPUT -j AMIME_SERVICES") < o("-A AMIME_OUTPUT -p tcp -j REDIRECT --to-ports 15001"));
    assert.ok(o("-A AMIME_OUTPUT -m owner --uid-owner 1337 -j RETURN") < o("-A AMIME_OUTPUT -j AMIME_SERVICES"));
    assert.ok(out.includes("-A AMIME_SERVICES -d 10.200.128.3/32 -p tcp --dport 6379 -j REDIRECT --to-ports 15200"));
  });

  it("redirects declared inbound ports to the sidecar's inbound listener, lets the node through, resets anything else", () => {
    const out = captureRules(base).split("\n");
    assert.ok(out.includes("-A AMIME_INBOUND -p tcp --dport 9080 -j REDIRECT --to-ports 15006"));
    assert.ok(out.indexOf("-A AMIME_INBOUND -s 10.200.0.1/32 -j RETURN") < out.indexOf("-A AMIME_INBOUND -p tcp --dport 9080 -j REDIRECT --to-ports 15006"));
    assert.ok(out.includes("-A INPUT -p tcp --dport 15006 -j ACCEPT"));
    // The sidecar's read-only status and Prometheus ports are open to any peer, never redirected; the admin is not.
    for (const p of [15021, 15090]) {
      assert.ok(out.includes(`-A INPUT -p tcp --dport ${p} -j ACCEPT`), String(p));
      assert.ok(!out.some((l) => l.includes(`--dport ${p} -j REDIRECT`)), String(p));
    }
    assert.ok(!out.some((l) => l.includes("--dport 15000")));
    assert.equal(out.at(-4), "-A INPUT -p tcp -j REJECT --reject-with tcp-reset");
    assert.equal(out.at(-3), "-A INPUT -j REJECT");
  });

  it("honours the exclusion annotations before any redirect", () => {
    const out = captureRules({ ...base, excludeOutboundPorts: [5432], excludeInboundPorts: [8081], excludeOutboundIPRanges: ["192.168.0.0/16"] }).split("\n");
    const redirect = out.indexOf("-A AMIME_OUTPUT -j AMIME_SERVICES");
    assert.ok(out.indexOf("-A AMIME_OUTPUT -p tcp --dport 5432 -j RETURN") < redirect);
    assert.ok(out.indexOf("-A AMIME_OUTPUT -d 192.168.0.0/16 -j RETURN") < redirect);
    assert.ok(out.indexOf("-A AMIME_INBOUND -p tcp --dport 8081 -j RETURN") < out.indexOf("-A AMIME_INBOUND -p tcp --dport 9080 -j REDIRECT --to-ports 15006"));
    assert.ok(out.includes("-A INPUT -p tcp --dport 8081 -j ACCEPT"));
  });

  it("with includeOutboundIPRanges, redirects (services, then 15001) only connections to those CIDRs", () => {
    const out = captureRules({ ...base, includeOutboundIPRanges: ["10.96.0.0/12"] }).split("\n");
    assert.ok(!out.includes("-A AMIME_OUTPUT -p tcp -j REDIRECT --to-ports 15001"));
    assert.ok(!out.includes("-A AMIME_OUTPUT -j AMIME_SERVICES"));
    assert.ok(out.indexOf("-A AMIME_OUTPUT -d 10.96.0.0/12 -j AMIME_SERVICES") < out.indexOf("-A AMIME_OUTPUT -d 10.96.0.0/12 -p tcp -j REDIRECT --to-ports 15001"));
    const none = captureRules({ ...base, includeOutboundIPRanges: [] });
    assert.ok(!/AMIME_OUTPUT.*REDIRECT/.test(none), "an empty list captures no outbound connection");
  });

  it("serviceRules replaces only the AMIME_SERVICES chain", () => {
    assert.equal(serviceRules([]), "*nat\n:AMIME_SERVICES - [0:0]\nCOMMIT\n");
  });
});

describe("captureAnnotations", () => {
  it("reads Istio's comma-separated annotations", () => {
    const a = captureAnnotations({ "traffic.sidecar.istio.io/excludeOutboundPorts": "5432, 6379", "traffic.sidecar.istio.io/excludeInboundPorts": "8081", "traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8,192.168.1.1/32" }, "w");
    assert.deepEqual(a, { excludeOutboundPorts: [5432, 6379], excludeInboundPorts: [8081], excludeOutboundIPRanges: ["10.0.0.0/8", "192.168.1.1/32"], includeOutboundIPRanges: null });
  });

  it("includeOutboundIPRanges: * or absent captures every address, an empty value none, a list only those", () => {
    const include = (v: string | undefined) => captureAnnotations(v === undefined ? {} : { "traffic.sidecar.istio.io/includeOutboundIPRanges": v }, "w").includeOutboundIPRanges;
    assert.equal(include(undefined), null);
    assert.equal(include("*"), null);
    assert.deepEqual(include(""), []);
    assert.deepEqual(include("10.96.0.0/12, 10.244.0.0/16"), ["10.96.0.0/12", "10.244.0.0/16"]);
    assert.throws(() => include("10.96.0.0"), /includeOutboundIPRanges"\]: "10\.96\.0\.0" is not an IPv4 CIDR/);
  });

  it("refuses a bad value, naming the annotation", () => {
    assert.throws(() => captureAnnotations({ "traffic.sidecar.istio.io/excludeOutboundPorts": "http" }, "Workload default/x (f.yaml:3)"), (e: Error) => e instanceof CaptureAnnotationError && /f\.yaml:3.*excludeOutboundPorts.*"http"/.test(e.message));
    assert.throws(() => captureAnnotations({ "traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/33" }, "w"), CaptureAnnotationError);
  });
});
