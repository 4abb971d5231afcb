import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { findings, routeTo, summary, virtualService } from "./harness.ts";
import { unreachableRulesCheck } from "./unreachable-rules.ts";

const rule = (match?: JsonObject[], name?: string): JsonObject => ({ ...(name ? { name } : {}), ...(match ? { match } : {}), route: [routeTo("reviews")] });
const vs = (...http: JsonObject[]): JsonObject => virtualService("r", { hosts: ["reviews"], http });
const jason = { headers: { "end-user": { exact: "jason" } } };

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "specific rule, then catch-all", docs: [vs(rule([jason]), rule())], want: [] },
  { name: "catch-all first hides the rest", docs: [vs(rule(), rule([jason]), rule([{ uri: { prefix: "/a" } }]))], want: ["IST0130 warning spec.http[1]", "IST0130 warning spec.http[2]"] },
  { name: "two rules without match", docs: [vs(rule(), rule())], want: ["IST0130 warning spec.http[1]"] },
  { name: "uri prefix / catches everything", docs: [vs(rule([{ uri: { prefix: "/" } }]), rule([jason]))], want: ["IST0130 warning spec.http[1]"] },
  { name: "uri prefix / with a header is not a catch-all", docs: [vs(rule([{ uri: { prefix: "/" }, ...jason }]), rule())], want: [] },
  { name: "duplicate match", docs: [vs(rule([jason]), rule([jason]), rule())], want: ["IST0130 warning spec.http[1]"] },
  { name: "duplicate with a different match name is still a duplicate", docs: [vs(rule([{ name: "a", ...jason }]), rule([{ name: "b", ...jason }]))], want: ["IST0130 warning spec.http[1]"] },
  { name: "one of two matches duplicated", docs: [vs(rule([jason]), rule([{ uri: { exact: "/x" } }, jason]))], want: ["IST0131 warning spec.http[1].match[1]"] },
  { name: "shorter prefix first shadows the longer one", docs: [vs(rule([{ uri: { prefix: "/api" } }]), rule([{ uri: { prefix: "/api/v1" } }]))], want: ["IST0130 warning spec.http[1]"] },
  { name: "longer prefix first is fine", docs: [vs(rule([{ uri: { prefix: "/api/v1" } }]), rule([{ uri: { prefix: "/api" } }]))], want: [] },
  { name: "bookinfo gateway routes", docs: [vs(rule([{ uri: { exact: "/productpage" } }, { uri: { prefix: "/static" } }, { uri: { exact: "/login" } }, { uri: { exact: "/logout" } }, { uri: { prefix: "/api/v1/products" } }]))], want: [] },
  { name: "tcp: rule without match before another", docs: [virtualService("t", { hosts: ["db"], tcp: [{ route: [routeTo("db")] }, { match: [{ port: 5432 }], route: [routeTo("db")] }] })], want: ["IST0130 warning spec.tcp[1]"] },
  { name: "tls: duplicate sniHosts", docs: [virtualService("t", { hosts: ["a.com"], tls: [{ match: [{ sniHosts: ["a.com"] }], route: [routeTo("a.com")] }, { match: [{ sniHosts: ["a.com"] }], route: [routeTo("a.com")] }] })], want: ["IST0130 warning spec.tls[1]"] },
];

for (const c of cases) {
  test(`unreachable rules: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, unreachableRulesCheck)), c.want);
  });
}

test("unreachable rules: messages use Istio's rule naming and say what to do", () => {
  const ds = findings([vs(rule(undefined, "default"), rule([jason]))], unreachableRulesCheck);
  assert.equal(ds[0]?.message, 'VirtualService rule #1 not used (rule "default" has no match, so it takes every request). Put catch-all rules last, or give them a match.');
  const [dup] = findings([vs(rule([jason]), rule([{ uri: { exact: "/x" } }, jason]))], unreachableRulesCheck);
  assert.equal(dup?.message, "VirtualService rule #1 match #1 is not used (duplicate/overlapping match in rule #0). Remove it, or move the more specific rule first.");
});
