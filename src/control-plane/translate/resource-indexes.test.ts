import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../../config/parse.ts";
import type { WorkloadInstance } from "../../model/registry.ts";
import { buildSnapshot } from "../../model/snapshot.ts";
import { destinationRulesCovering, snapshotIndex } from "./index-cache.ts";
import { selectedLabelKeys } from "./proxy-class.ts";
import { prepareResourceIndexes } from "./resource-indexes.ts";

const YAML = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec: {host: reviews, workloadSelector: {matchLabels: {app: productpage}}, subsets: [{name: v1, labels: {version: v1}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec: {hosts: [reviews], http: [{match: [{sourceLabels: {version: v2}}], route: [{destination: {host: reviews, subset: v1}}]}]}
`;

test("what translation reads from the resources alone is made once for the snapshots of the same resources", () => {
  const { resources } = parseDocuments(YAML, "mesh.yaml");
  const configChange = buildSnapshot(resources, { services: [], instances: [] });
  prepareResourceIndexes(configChange);
  const pod: WorkloadInstance = { name: "productpage-0", namespace: "default", labels: { app: "productpage" }, serviceAccount: "pp", address: "10.0.0.1", ready: true };
  const registration = buildSnapshot(resources, { services: [], instances: [pod] }, { version: "v2" });
  assert.equal(selectedLabelKeys(registration), selectedLabelKeys(configChange), "the same keys, made at the config change");
  assert.deepEqual(selectedLabelKeys(registration), ["app", "version"]);
  assert.equal(snapshotIndex(registration).drsByNamespace, snapshotIndex(configChange).drsByNamespace);
  assert.deepEqual(destinationRulesCovering(registration, "default", "reviews.default.svc.cluster.local"), [0]);
  assert.equal(snapshotIndex(registration).instancesByNamespace.get("default")?.[0]?.name, "productpage-0", "the instances are the new snapshot's");

  const changed = parseDocuments(YAML.replace("sourceLabels: {version: v2}", "sourceLabels: {track: canary}"), "mesh.yaml").resources;
  const next = buildSnapshot(changed, { services: [], instances: [pod] }, { version: "v3" });
  assert.deepEqual(selectedLabelKeys(next), ["app", "track"], "other resources: their own keys");
  assert.notEqual(snapshotIndex(next).drsByNamespace, snapshotIndex(configChange).drsByNamespace);
  const otherSuffix = buildSnapshot(resources, { services: [], instances: [] }, { mesh: { domainSuffix: "example.internal" } });
  assert.deepEqual(destinationRulesCovering(otherSuffix, "default", "reviews.default.svc.example.internal"), [0], "another domain suffix: its own hosts");
});
