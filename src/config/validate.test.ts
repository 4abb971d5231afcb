import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "./parse.ts";
import { validateResource } from "./validate.ts";

const one = (yaml: string) => {
  const { resources } = parseDocuments(yaml, "t.yaml");
  assert.equal(resources.length, 1);
  return validateResource(resources[0]!);
};

test("Kubernetes kinds and the Gateway API are ignored with a warning; unknown kinds are errors", () => {
  assert.equal(one("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n").status, "ignored");
  assert.equal(one("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {}\n").status, "ignored");
  assert.equal(one("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n").status, "ignored");
  const r = one("apiVersion: networking.istio.io/v1\nkind: Deployment\nmetadata: {name: a}\n");
  assert.equal(r.status, "invalid");
  assert.match(r.diagnostics[0]?.message ?? "", /unknown kind Deployment/);
  assert.equal(one("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a}\n").status, "invalid");
});

test("a kind at a version Istio does not serve is rejected, naming the versions it does", () => {
  const r = one("apiVersion: security.istio.io/v1alpha3\nkind: PeerAuthentication\nmetadata: {name: a}\nspec: {}\n");
  assert.equal(r.status, "invalid");
  assert.match(r.diagnostics[0]?.message ?? "", /security\.istio\.io\/v1beta1, security\.istio\.io\/v1/);
});

test("metadata is checked: name required and RFC 1123, label values are strings", () => {
  const r = one("apiVersion: v1\nkind: Service\nmetadata:\n  name: Bad_Name\n  labels: {version: 2}\nspec:\n  ports: [{port: 80}]\n");
  const paths = r.diagnostics.filter((d) => d.level === "error").map((d) => d.path);
  assert.ok(paths.includes("metadata.name"), paths.join());
  assert.ok(paths.includes("metadata.labels.version"), paths.join());
  assert.equal(r.diagnostics.find((d) => d.path === "metadata.name")?.source.line, 4);
});
