import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { findings, routeTo, summary, virtualService } from "./harness.ts";
import { routeWeightsCheck } from "./route-weights.ts";

const split = (...route: JsonObject[]): JsonObject => virtualService("r", { hosts: ["reviews"], http: [{ route }] });

const cases: { name: string; docs: JsonObject[]; want: string[] }[] = [
  { name: "one destination without weight", docs: [split(routeTo("reviews", "v1"))], want: [] },
  { name: "one destination with weight 0 still gets all traffic", docs: [split(routeTo("reviews", "v1", 0))], want: [] },
  { name: "weights 90/10", docs: [split(routeTo("reviews", "v1", 90), routeTo("reviews", "v2", 10))], want: [] },
  { name: "a dark destination at weight 0 beside a live one", docs: [split(routeTo("reviews", "v1", 100), routeTo("reviews", "v2", 0))], want: [] },
  { name: "all weights 0", docs: [split(routeTo("reviews", "v1", 0), routeTo("reviews", "v2", 0))], want: ["AMM1002 error spec.http[0].route"] },
  { name: "no weights on a split", docs: [split(routeTo("reviews", "v1"), routeTo("reviews", "v2"))], want: ["AMM1002 error spec.http[0].route"] },
  { name: "tcp split with zero weights", docs: [virtualService("t", { hosts: ["db"], tcp: [{ route: [routeTo("db", "a", 0), routeTo("db", "b", 0)] }] })], want: ["AMM1002 error spec.tcp[0].route"] },
];

for (const c of cases) {
  test(`route weights: ${c.name}`, () => {
    assert.deepEqual(summary(findings(c.docs, routeWeightsCheck)), c.want);
  });
}
