// Gateway validation (Istio has no testdata file for it, so the cases come from its validator's rules).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Diagnostic } from "../../model/diagnostic.ts";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";

function validate(spec: unknown, name = "gw"): Diagnostic[] {
  const doc = { apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name, namespace: "istio-system" }, spec };
  const { resources } = parseDocuments(JSON.stringify(doc), "gw.json");
  return validateResource(resources[0]!).diagnostics;
}
const errors = (ds: Diagnostic[]): string[] => ds.filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);
const http = { number: 80, name: "http", protocol: "HTTP" };
const https = { number: 443, name: "https", protocol: "HTTPS" };
const gw = (servers: unknown[]): unknown => ({ selector: { istio: "ingressgateway" }, servers });

const REJECTED: [string, unknown, string][] = [
  ["no servers", { selector: { istio: "x" } }, "gateway must have at least one server"],
  ["no hosts", gw([{ port: http }]), "server config must contain at least one host"],
  ["short host", gw([{ port: http, hosts: ["ns/foo"] }]), "short names (non FQDN) are not allowed"],
  ["bad namespace", gw([{ port: http, hosts: ["Bad_NS/foo.com"] }]), 'invalid namespace value "Bad_NS" in gateway'],
  ["partial wildcard", gw([{ port: http, hosts: ["foo*.com"] }]), 'partial wildcard "foo*.com" not allowed'],
  ["no port", gw([{ hosts: ["*"] }]), "port is required"],
  ["bad protocol", gw([{ port: { number: 80, name: "x", protocol: "SMTP" }, hosts: ["*"] }]), 'invalid protocol "SMTP", supported protocols are'],
  ["port 0", gw([{ port: { number: 0, name: "x", protocol: "HTTP" }, hosts: ["*"] }]), "port number 0 must be in the range 1..65535"],
  ["targetPort", gw([{ port: { ...http, targetPort: 8080 }, hosts: ["*"] }]), "targetPort has no impact on Gateways"],
  ["unnamed port", gw([{ port: { number: 80, protocol: "HTTP" }, hosts: ["*"] }]), "port name must be set"],
  ["duplicate port names", gw([{ port: http, hosts: ["*"] }, { port: { ...http, number: 8080 }, hosts: ["*"] }]), "port names in servers must be unique: duplicate name http"],
  ["HTTPS without tls", gw([{ port: https, hosts: ["*"] }]), "server must have TLS settings for HTTPS/TLS protocols"],
  ["tls on plain HTTP", gw([{ port: http, hosts: ["*"], tls: { mode: "SIMPLE", credentialName: "c" } }]), "server cannot have TLS settings for plain text HTTP ports"],
  ["tls on TCP", gw([{ port: { number: 31400, name: "tcp", protocol: "TCP" }, hosts: ["*"], tls: { mode: "SIMPLE", credentialName: "c" } }]), "server cannot have TLS settings for non HTTPS/TLS ports"],
  ["SIMPLE without cert", gw([{ port: https, hosts: ["*"], tls: { mode: "SIMPLE", privateKey: "/k" } }]), "SIMPLE TLS requires a server certificate"],
  ["MUTUAL without CA", gw([{ port: https, hosts: ["*"], tls: { mode: "MUTUAL", serverCertificate: "/c", privateKey: "/k" } }]), "MUTUAL TLS requires a client CA bundle"],
  ["ISTIO_MUTUAL with credential", gw([{ port: https, hosts: ["*"], tls: { mode: "ISTIO_MUTUAL", credentialName: "c" } }]), "ISTIO_MUTUAL TLS cannot have associated credentialName"],
  ["CRL with SIMPLE", gw([{ port: https, hosts: ["*"], tls: { mode: "SIMPLE", serverCertificate: "/c", privateKey: "/k", caCrl: "/crl" } }]), "CRL is not supported with SIMPLE TLS"],
  ["bad bind", gw([{ port: http, hosts: ["*"], bind: "not-an-ip" }]), "not-an-ip is not a valid IP"],
  ["unix bind with port", gw([{ port: http, hosts: ["*"], bind: "unix:///var/run/gw.sock" }]), "port number must be 0 for unix domain socket"],
  ["bad tls mode", gw([{ port: https, hosts: ["*"], tls: { mode: "STRICT" } }]), 'unsupported value "STRICT"'],
];

for (const [title, spec, want] of REJECTED) {
  test(`rejects: ${title}`, () => {
    const errs = errors(validate(spec));
    assert.ok(errs.some((e) => e.includes(want)), `want ${JSON.stringify(want)}, got ${JSON.stringify(errs)}`);
  });
}

test("rejects: dotted gateway name", () => {
  assert.ok(errors(validate(gw([{ port: http, hosts: ["*"] }]), "my.gw")).some((e) => e.includes('invalid gateway name: "my.gw"')));
});

const VALID: [string, unknown][] = [
  ["bookinfo style", gw([{ port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["*"] }])],
  ["https redirect on HTTP", gw([{ port: http, hosts: ["bookinfo.com"], tls: { httpsRedirect: true } }])],
  ["HTTPS with credentialName and namespaced hosts", gw([{ port: https, hosts: ["ns1/*.example.com", "./foo.com", "*/bar.com"], tls: { mode: "SIMPLE", credentialName: "cert" } }])],
  ["MUTUAL with files", gw([{ port: https, hosts: ["a.com"], tls: { mode: "MUTUAL", serverCertificate: "/c", privateKey: "/k", caCertificates: "/ca", minProtocolVersion: "TLSV1_2" } }])],
  ["passthrough TLS", gw([{ port: { number: 443, name: "tls", protocol: "TLS" }, hosts: ["a.com"], tls: { mode: "PASSTHROUGH" } }])],
  ["IP host and bind", gw([{ port: http, hosts: ["10.0.0.1"], bind: "0.0.0.0" }])],
];
for (const [title, spec] of VALID) test(`valid: ${title}`, () => assert.deepEqual(errors(validate(spec)), []));

test("old TLS versions without ciphers warn", () => {
  const ds = validate(gw([{ port: https, hosts: ["a.com"], tls: { mode: "SIMPLE", credentialName: "c", minProtocolVersion: "TLSV1_0" } }]));
  assert.deepEqual(errors(ds), []);
  assert.ok(ds.some((d) => d.level === "warning" && d.path === "spec.servers[0].tls.minProtocolVersion"));
});
