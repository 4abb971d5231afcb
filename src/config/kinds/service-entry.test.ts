// ServiceEntry and WorkloadEntry rules beyond Istio's testdata (which test/config/networking-fixtures covers).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Diagnostic } from "../../model/diagnostic.ts";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";

function validate(kind: string, spec: unknown): Diagnostic[] {
  const doc = { apiVersion: "networking.istio.io/v1", kind, metadata: { name: "x", namespace: "ns" }, spec };
  const { resources } = parseDocuments(JSON.stringify(doc), "x.json");
  return validateResource(resources[0]!).diagnostics;
}
const errors = (ds: Diagnostic[]): string[] => ds.filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);
const port = (number: number, protocol = "HTTP", name = `p${number}`): unknown => ({ number, protocol, name });

const REJECTED: [string, string, unknown, string][] = [
  ["ServiceEntry", "DNS with wildcard host and no endpoints", { hosts: ["*.a.com"], ports: [port(80)], resolution: "DNS" }, "hosts must be FQDN if no endpoints are provided for resolution mode DNS"],
  ["ServiceEntry", "STATIC endpoint with hostname", { hosts: ["a.com"], ports: [port(80)], resolution: "STATIC", endpoints: [{ address: "b.com" }] }, 'endpoint address "b.com" is not a valid IP address'],
  ["ServiceEntry", "endpoint port not in service", { hosts: ["a.com"], ports: [port(80, "HTTP", "http")], resolution: "STATIC", endpoints: [{ address: "1.1.1.1", ports: { grpc: 90 } }] }, "endpoint port 90 is not defined by the service entry"],
  ["ServiceEntry", "multiple hosts with TCP", { hosts: ["a.com", "b.com"], ports: [port(3306, "TCP")], resolution: "DNS" }, "multiple hosts provided with non-HTTP, non-TLS ports"],
  ["ServiceEntry", "bad protocol", { hosts: ["a.com"], ports: [port(80, "SMTP")] }, "unsupported protocol: SMTP"],
  ["ServiceEntry", "bad port name", { hosts: ["a.com"], ports: [port(80, "HTTP", "bad_name")] }, "invalid port name: bad_name"],
  ["ServiceEntry", "bad address", { hosts: ["a.com"], addresses: ["300.1.1.1"] }, "300.1.1.1 is not a valid IP"],
  ["ServiceEntry", "exportTo ~ with others", { hosts: ["a.com"], exportTo: ["~", "x"] }, "cannot export service entry to no one (~) and someone"],
  ["ServiceEntry", "bad resolution", { hosts: ["a.com"], resolution: "MAGIC" }, 'unsupported value "MAGIC"'],
  ["WorkloadEntry", "bad address", { address: "not a host" }, 'endpoint address "not a host" is not a valid FQDN or an IP address'],
  ["WorkloadEntry", "bad label", { address: "1.1.1.1", labels: { "a b": "c" } }, 'invalid tag key: "a b"'],
];

for (const [kind, title, spec, want] of REJECTED) {
  test(`${kind} rejects: ${title}`, () => {
    const errs = errors(validate(kind, spec));
    assert.ok(errs.some((e) => e.includes(want)), `want ${JSON.stringify(want)}, got ${JSON.stringify(errs)}`);
  });
}

test("ServiceEntry: valid mesh-external HTTPS with DNS and exportTo ~", () => {
  const ds = validate("ServiceEntry", { hosts: ["api.example.com"], ports: [port(443, "HTTPS", "https")], resolution: "DNS", location: "MESH_EXTERNAL", exportTo: ["~"] });
  assert.deepEqual(errors(ds), []);
});

test("ServiceEntry: STATIC endpoints with ports and a quoted IPv6 address", () => {
  const ds = validate("ServiceEntry", { hosts: ["db.internal"], addresses: ["2001:db8::1"], ports: [port(5432, "TCP", "pg")], resolution: "STATIC", endpoints: [{ address: "10.0.0.5", ports: { pg: 5433 }, labels: { v: "1" } }] });
  assert.deepEqual(errors(ds), []);
});

test("an unquoted IPv6 address in a flow list is read back with a warning", () => {
  const yaml = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\nspec:\n  hosts: [a.com]\n  addresses: [1.2.3.4, 2001:db8::]\n";
  const { resources } = parseDocuments(yaml, "s.yaml");
  const ds = validateResource(resources[0]!).diagnostics;
  assert.deepEqual(errors(ds), []);
  assert.ok(ds.some((d) => d.level === "warning" && d.message.includes("quote IPv6")));
});
