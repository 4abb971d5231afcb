import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { destinationHostsCheck } from "./destination-hosts.ts";
import { findings, routeTo, service, serviceEntry, summary, virtualService } from "./harness.ts";

const vs = (dest: JsonObject, ns?: string, extra: JsonObject = {}): JsonObject =>
  virtualService("r", { hosts: ["reviews"], http: [{ route: [dest], ...extra }] }, ns);
const ROUTE_HOST = "spec.http[0].route[0].destination.host";

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "short name of a Service in the same namespace", docs: [service("reviews"), vs(routeTo("reviews"))], want: [] },
  { name: "misspelt host", docs: [service("reviews"), vs(routeTo("reviewz"))], want: [`IST0101 error ${ROUTE_HOST}`] },
  { name: "short name resolves in the VirtualService's namespace, not the Service's", docs: [service("reviews", { namespace: "other" }), vs(routeTo("reviews"))], want: [`IST0101 error ${ROUTE_HOST}`] },
  { name: "FQDN of a Service in another namespace", docs: [service("reviews", { namespace: "other" }), vs(routeTo("reviews.other.svc.cluster.local"))], want: [] },
  { name: "name.namespace form of a Service", docs: [service("reviews", { namespace: "other" }), vs(routeTo("reviews.other"))], want: [] },
  { name: "ServiceEntry host", docs: [serviceEntry("ext", { hosts: ["api.example.com"] }), vs(routeTo("api.example.com"))], want: [] },
  { name: "wildcard ServiceEntry host", docs: [serviceEntry("ext", { hosts: ["*.example.com"] }), vs(routeTo("api.example.com"))], want: [] },
  { name: "wildcard does not cover the bare domain", docs: [serviceEntry("ext", { hosts: ["*.example.com"] }), vs(routeTo("example.com"))], want: [`IST0101 error ${ROUTE_HOST}`] },
  { name: "Service exported only to its namespace", docs: [{ ...service("reviews", { namespace: "other" }), metadata: { name: "reviews", namespace: "other", annotations: { "networking.istio.io/exportTo": "." } } }, vs(routeTo("reviews.other.svc.cluster.local"))], want: [`IST0101 error ${ROUTE_HOST}`] },
  { name: "missing mirror host", docs: [service("reviews"), vs(routeTo("reviews"), undefined, { mirror: { host: "shadow" } })], want: ["IST0101 error spec.http[0].mirror.host"] },
  { name: "missing mirrors[] host", docs: [service("reviews"), vs(routeTo("reviews"), undefined, { mirrors: [{ destination: { host: "shadow" } }] })], want: ["IST0101 error spec.http[0].mirrors[0].destination.host"] },
  { name: "tcp route", docs: [virtualService("t", { hosts: ["db"], tcp: [{ route: [routeTo("db")] }] })], want: ["IST0101 error spec.tcp[0].route[0].destination.host"] },
];

for (const c of cases) {
  test(`destination hosts: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, destinationHostsCheck)), c.want);
  });
}

test("destination hosts: the message names the host, its FQDN and a likely fix", () => {
  const [d] = findings([service("reviews"), vs(routeTo("reviewz"))], destinationHostsCheck);
  assert.ok(d);
  assert.match(d.message, /^Referenced host not found: "reviewz" \(no Service or ServiceEntry defines reviewz\.default\.svc\.cluster\.local\)\. Did you mean "reviews"\?$/);
  assert.equal(d.resource, "VirtualService default/r");
  assert.equal(d.source.file, "case.yaml");
  assert.ok(d.source.line > 1);
});

test("destination hosts: --namespace sets the namespace of resources without one", () => {
  const docs = [service("reviews", { namespace: "shop" }), vs(routeTo("reviews"))];
  assert.deepEqual(summary(findings(docs, destinationHostsCheck, { namespace: "shop" })), []);
  assert.equal(findings(docs, destinationHostsCheck)[0]?.resource, "VirtualService default/r");
});
