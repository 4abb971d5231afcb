import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { gatewayRefsCheck } from "./gateway-refs.ts";
import { findings, gateway, routeTo, summary, virtualService } from "./harness.ts";

const bound = (gateways: string[], ns?: string, match?: JsonObject[]): JsonObject =>
  virtualService("r", { hosts: ["shop.example.com"], gateways, http: [{ ...(match ? { match } : {}), route: [routeTo("shop")] }] }, ns);

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "gateway in the same namespace", docs: [gateway("gw"), bound(["gw"])], want: [] },
  { name: "mesh is always there", docs: [bound(["mesh"])], want: [] },
  { name: "no gateways field means mesh", docs: [virtualService("r", { hosts: ["a"], http: [{ route: [routeTo("a")] }] })], want: [] },
  { name: "missing gateway", docs: [gateway("gw"), bound(["gw2"])], want: ["IST0101 error spec.gateways[0]"] },
  { name: "namespace/name reference", docs: [gateway("gw", "istio-system"), bound(["istio-system/gw"])], want: [] },
  { name: "short name does not find a gateway in another namespace", docs: [gateway("gw", "istio-system"), bound(["gw"])], want: ["IST0101 error spec.gateways[0]"] },
  { name: "legacy FQDN reference", docs: [gateway("gw", "istio-system"), bound(["gw.istio-system.svc.cluster.local"])], want: [] },
  { name: "match-level gateway", docs: [gateway("gw"), bound(["gw"], undefined, [{ gateways: ["nope"], uri: { prefix: "/" } }])], want: ["IST0101 error spec.http[0].match[0].gateways[0]"] },
];

for (const c of cases) {
  test(`gateway refs: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, gatewayRefsCheck)), c.want);
  });
}

test("gateway refs: suggests the nearest existing gateway", () => {
  const [d] = findings([gateway("bookinfo-gateway"), bound(["bookinfo-gatway"])], gatewayRefsCheck);
  assert.equal(d?.message, 'Referenced gateway not found: "bookinfo-gatway" (no Gateway default/bookinfo-gatway). Did you mean "default/bookinfo-gateway"?');
});
