import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { destinationRule, findings, peerAuthentication, service, summary } from "./harness.ts";
import { notEnforcedCheck } from "./not-enforced.ts";

const policy = (kind: string, name: string, spec: JsonObject): JsonObject => ({ apiVersion: "security.istio.io/v1", kind, metadata: { name }, spec });

describe("not-enforced check", () => {
  it("unsupported AuthorizationPolicy conditions get AMM1014; enforced policies (PeerAuthentication, CUSTOM, peer identity included) get none", () => {
    const ds = findings([
      peerAuthentication("strict", "STRICT"),
      policy("RequestAuthentication", "jwt", { jwtRules: [{ issuer: "testing@secure.istio.io" }] }),
      policy("AuthorizationPolicy", "deny-all", {}),
      policy("AuthorizationPolicy", "deny-post", { action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"] } }] }] }),
      policy("AuthorizationPolicy", "ext", { action: "CUSTOM", provider: { name: "x" }, rules: [{}] }),
      policy("AuthorizationPolicy", "viewer", { rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/productpage"] } }] }] }),
      policy("AuthorizationPolicy", "deny-ns", { action: "DENY", rules: [{ when: [{ key: "source.namespace", values: ["foo"] }, { key: "connection.sni", values: ["x"] }] }] }),
    ], notEnforcedCheck);
    assert.deepEqual(summary(ds), ["AMM1014 warning "]);
    assert.equal(ds[0]?.message, "Partly enforced: connection.sni cannot be evaluated by Amime (a DENY condition on it always applies).");
  });

  it("DestinationRule tls.mode ISTIO_MUTUAL gets no warning: the sidecars do mutual TLS (AMM1015 is retired)", () => {
    const ds = findings([destinationRule("r", "reviews", {}, { trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } })], notEnforcedCheck);
    assert.deepEqual(summary(ds), []);
  });

  it("a policy that selects workloads with TCP Service ports gets no warning: the rbac network filter enforces it there", () => {
    const ds = findings([
      service("db", { selector: { app: "db" }, ports: [{ name: "tcp-db", port: 5432 }, { name: "http-admin", port: 8080 }] }),
      service("web", { selector: { app: "web" }, ports: [{ name: "http", port: 80 }] }),
      { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "db-deny", namespace: "default" }, spec: { selector: { matchLabels: { app: "db" } }, action: "DENY", rules: [{}] } },
      { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "web-allow", namespace: "default" }, spec: { selector: { matchLabels: { app: "web" } }, rules: [{}] } },
    ], notEnforcedCheck);
    assert.deepEqual(summary(ds), []);
  });

  it("TLS settings that do not act as they read get AMM1014 at their field path: DestinationRule credentialName without workloadSelector, Gateway credentialNames and mesh modes on the wrong protocol (credentialName, OPTIONAL_MUTUAL, caCrl, ISTIO_MUTUAL on HTTPS and TLS, AUTO_PASSTHROUGH on TLS work)", () => {
    const gw = (servers: JsonObject[]): JsonObject => ({ apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "gw" }, spec: { selector: { istio: "ingressgateway" }, servers } });
    const https = { number: 443, name: "https", protocol: "HTTPS" };
    const ds = findings([
      destinationRule("files", "a", {}, { trafficPolicy: { tls: { mode: "MUTUAL", clientCertificate: "/c.pem", privateKey: "/k.pem" } } }),
      destinationRule("secret", "b", {}, { trafficPolicy: { tls: { mode: "SIMPLE", credentialName: "b-cred" } } }),
      destinationRule("crl", "c", {}, { subsets: [{ name: "v1", labels: { version: "v1" }, trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: "SIMPLE", caCertificates: "/ca.pem", caCrl: "/crl.pem" } }] } }] }),
      destinationRule("selected", "d", {}, { workloadSelector: { matchLabels: { app: "egress" } }, trafficPolicy: { tls: { mode: "MUTUAL", credentialName: "d-cred" } } }),
      destinationRule("subset-secret", "e", {}, { subsets: [{ name: "v1", labels: { version: "v1" }, trafficPolicy: { tls: { mode: "MUTUAL", credentialName: "e-cred" } } }] }),
      gw([
        { port: https, hosts: ["a.com"], tls: { mode: "SIMPLE", serverCertificate: "/s.pem", privateKey: "/k.pem" } },
        { port: https, hosts: ["b.com"], tls: { mode: "SIMPLE", credentialNames: ["b-rsa", "b-ec"] } },
        { port: { number: 9443, name: "tcp", protocol: "TCP" }, hosts: ["c.com"], tls: { mode: "ISTIO_MUTUAL" } },
        { port: { number: 9444, name: "tls", protocol: "TLS" }, hosts: ["c.com"], tls: { mode: "ISTIO_MUTUAL" } },
        { port: https, hosts: ["g.com"], tls: { mode: "ISTIO_MUTUAL" } },
        { port: { number: 15443, name: "tls", protocol: "TLS" }, hosts: ["*.local"], tls: { mode: "AUTO_PASSTHROUGH" } },
        { port: https, hosts: ["*.local"], tls: { mode: "AUTO_PASSTHROUGH" } },
        { port: https, hosts: ["d.com"], tls: { mode: "SIMPLE", credentialName: "d-cert" } },
        { port: https, hosts: ["e.com"], tls: { mode: "OPTIONAL_MUTUAL", credentialName: "e-cert" } },
        { port: https, hosts: ["f.com"], tls: { mode: "MUTUAL", serverCertificate: "/s.pem", privateKey: "/k.pem", caCertificates: "/ca.pem", caCrl: "/crl.pem" } },
      ]),
    ], notEnforcedCheck);
    assert.deepEqual(
      ds.map((d) => [d.code, d.resource, d.path]),
      [
        ["AMM1014", "DestinationRule default/secret", "spec.trafficPolicy.tls.credentialName"],
        ["AMM1014", "DestinationRule default/subset-secret", "spec.subsets[0].trafficPolicy.tls.credentialName"],
        ["AMM1014", "Gateway default/gw", "spec.servers[1].tls"],
        ["AMM1014", "Gateway default/gw", "spec.servers[2].tls"],
        ["AMM1014", "Gateway default/gw", "spec.servers[6].tls"],
      ],
    );
    assert.match(ds[0]?.message ?? "", /gateways only; without a workloadSelector, sidecars originate no TLS/);
    assert.match(ds[2]?.message ?? "", /credentialNames .* this server gets no listener/);
    assert.match(ds[3]?.message ?? "", /tls.mode ISTIO_MUTUAL on a TCP protocol server \(HTTPS and TLS only\)/);
    assert.match(ds[4]?.message ?? "", /tls.mode AUTO_PASSTHROUGH on a HTTPS protocol server \(TLS only\)/);
  });
});
