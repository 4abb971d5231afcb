import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDocuments } from "../../config/parse.ts";
import { nodeAgentMissing } from "./node-agent-check.ts";

const SERVICES = `apiVersion: v1
kind: Service
metadata: {name: tcp-echo, namespace: shop}
spec:
  ports:
  - {name: tcp, port: 9000}
  - {name: http-web, port: 8080}
  - {name: dns, port: 53, protocol: UDP}
  - {name: db, port: 5432, appProtocol: postgresql}
  - {name: mongo, port: 27017}
---
apiVersion: v1
kind: Service
metadata: {name: kubernetes, namespace: default}
spec:
  clusterIP: 10.96.0.1
  ports: [{name: https, port: 443}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  clusterIP: None
  ports: [{name: tcp, port: 5432}]
`;

describe("nodeAgentMissing (AMM1024)", () => {
  it("one warning per TCP service port with a cluster IP; HTTP, undeclared, UDP and headless ports have none", () => {
    const { resources } = parseDocuments(SERVICES, "kubernetes:Service");
    const ds = nodeAgentMissing(resources);
    assert.deepEqual(ds.map((d) => [d.code, d.level, d.resource, d.path, d.message.split(" is ")[0]]), [
      ["AMM1024", "warning", "Service shop/tcp-echo", "spec.ports[0]", "port 9000 (tcp)"],
      ["AMM1024", "warning", "Service shop/tcp-echo", "spec.ports[4]", "port 27017 (mongo)"],
      ["AMM1024", "warning", "Service default/kubernetes", "spec.ports[0]", "port 443 (https)"],
    ]);
    assert.match(ds[0]!.message, /no amime-node-agent DaemonSet runs in the cluster: in injected pods, connections to its cluster IP reach the sidecar's HTTP port 15001/);
    assert.equal(ds[0]!.source.line, 6);
  });
});
