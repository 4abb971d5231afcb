import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPath } from "../../model/resource.ts";
import { parseMeshConfig } from "./parse.ts";

describe("parseMeshConfig", () => {
  it("reads a plain MeshConfig and points into it", () => {
    const text = "enableTracing: true\nextensionProviders:\n- name: zipkin\n  zipkin:\n    service: zipkin.istio-system.svc.cluster.local\n    port: 9411\n";
    const { document, diagnostics } = parseMeshConfig(text, "mesh.yaml");
    assert.deepEqual(diagnostics, []);
    assert.ok(document);
    assert.equal(document.resource.kind, "MeshConfig");
    assert.deepEqual(document.resource.positionOf(["extensionProviders", 0, "zipkin", "port"]), { file: "mesh.yaml", line: 6, column: 5 });
  });

  it("reads the istio ConfigMap and maps positions inside `mesh: |` to lines of the file", () => {
    const text = [
      "apiVersion: v1", // 1
      "kind: ConfigMap", // 2
      "metadata:", // 3
      "  name: istio", // 4
      "  namespace: istio-system", // 5
      "data:", // 6
      "  mesh: |-", // 7
      "    accessLogFile: /dev/stdout", // 8
      "    extensionProviders:", // 9
      "    - name: otel", // 10
      "      opentelemetry:", // 11
      "        port: 4317", // 12
    ].join("\n");
    const { document, diagnostics } = parseMeshConfig(text, "cm.yaml");
    assert.deepEqual(diagnostics, []);
    assert.ok(document);
    assert.equal(document.body.accessLogFile, "/dev/stdout");
    assert.deepEqual(document.resource.positionOf(["extensionProviders", 0, "opentelemetry", "port"]), { file: "cm.yaml", line: 12, column: 9 });
    assert.deepEqual(document.resource.positionOf(["accessLogFile"]), { file: "cm.yaml", line: 8, column: 5 });
    assert.equal(formatPath(["extensionProviders", 0, "name"]), "extensionProviders[0].name");
  });

  it("refuses other kinds, several documents, a ConfigMap without data.mesh and bad YAML, with positions", () => {
    assert.match(parseMeshConfig("apiVersion: v1\nkind: Service\n", "x.yaml").diagnostics[0]?.message ?? "", /not a MeshConfig/);
    assert.match(parseMeshConfig("a: 1\n---\nb: 2\n", "x.yaml").diagnostics[0]?.message ?? "", /one MeshConfig document, found 2/);
    assert.match(parseMeshConfig("apiVersion: v1\nkind: ConfigMap\ndata: {}\n", "x.yaml").diagnostics[0]?.message ?? "", /data\.mesh/);
    const bad = parseMeshConfig("apiVersion: v1\nkind: ConfigMap\ndata:\n  mesh: |\n    a: [1\n", "x.yaml");
    assert.equal(bad.document, null);
    assert.equal(bad.diagnostics[0]?.source.file, "x.yaml");
    assert.ok((bad.diagnostics[0]?.source.line ?? 0) >= 5, JSON.stringify(bad.diagnostics[0]));
    assert.match(parseMeshConfig("- 1\n", "x.yaml").diagnostics[0]?.message ?? "", /must be an object/);
  });
});
