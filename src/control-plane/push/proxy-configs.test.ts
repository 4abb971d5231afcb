import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../../config/parse.ts";
import { makeEntries } from "../../model/snapshot.ts";
import { InstanceRegistry } from "../registry/instance-registry.ts";
import { TcpPortAssignments } from "../registry/tcp-port-assignments.ts";
import { ProxyConfigs } from "./proxy-configs.ts";

const YAML = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v2}}]}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: default}
spec: {address: 10.8.0.1, labels: {app: reviews}}
`;

test("a new version makes its resources' snapshot entries at once, not when the first proxy asks for its config", () => {
  let resources = parseDocuments(YAML, "mesh.yaml").resources;
  const configs = new ProxyConfigs({ resources: () => resources, registry: new InstanceRegistry(), tcpPorts: new TcpPortAssignments(), mesh: undefined, pods: () => null, stamp: (c) => c, log: () => {} });
  configs.bump();
  assert.equal(makeEntries(resources), 0, "the bump made them");
  resources = parseDocuments(YAML.replace("subset: v2", "subset: v3"), "mesh.yaml").resources;
  configs.bump();
  assert.equal(makeEntries(resources), 0, "and those of a changed config");
  assert.equal(configs.snapshot().virtualServices[0]!.spec.http?.[0]?.route?.[0]?.destination?.subset, "v3");
});
