import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";

function check(spec: string, kind = "EnvoyFilter", apiVersion = "networking.istio.io/v1alpha3"): string[] {
  const { resources, diagnostics } = parseDocuments(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: f, namespace: istio-system}\nspec:\n${spec}`, "f.yaml");
  assert.deepEqual(diagnostics, []);
  return validateResource(resources[0]!).diagnostics.map((d) => `${d.level} ${d.code} ${d.path}: ${d.message}`);
}

const NOT_APPLIED = /^warning AMM1013 (spec[^:]*: not applied: |: EnvoyFilter is accepted but not applied)/;

describe("EnvoyFilter", () => {
  it("Istio's rate-limit task: every EnvoyFilter, local and global, loads clean (applied)", () => {
    for (const file of ["test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml", "test/fixtures/istio/samples/ratelimit/local-rate-limit-service.yaml"]) {
      const filters = parseDocuments(readFileSync(file, "utf8"), file).resources.filter((r) => r.kind === "EnvoyFilter");
      assert.ok(filters.length > 0, file);
      for (const r of filters) {
        const ds = validateResource(r).diagnostics;
        const what = `${file} ${r.metadata.name}: ${ds.map((d) => `${d.path} ${d.message}`).join("; ")}`;
        assert.equal(validateResource(r).status, "valid");
        // Istio's samples/ratelimit variant adds local `descriptors`: applied too.
        assert.deepEqual(ds, [], what);
      }
    }
  });

  it("a patch outside the local rate limit keeps AMM1013 beside an applied one, naming its field", () => {
    const local = "{applyTo: HTTP_FILTER, match: {context: SIDECAR_INBOUND}, patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.local_ratelimit, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit, stat_prefix: s}}}}";
    assert.deepEqual(check(`  configPatches: [${local}]`), []);
    assert.deepEqual(check(`  configPatches: [${local}, {applyTo: CLUSTER, patch: {operation: REMOVE}}]`), ["warning AMM1013 spec.configPatches[1]: not applied: spec.configPatches[1].applyTo: applyTo CLUSTER is not applied"]);
  });

  it("pilot's rules: applyTo, patch, operation, value, match class, filter names, priority, selector vs targetRefs", () => {
    const cases: [string, RegExp][] = [
      ["  configPatches: [{patch: {operation: ADD, value: {}}}]", /^error AMM0012 spec\.configPatches\[0\]\.applyTo: Envoy filter: missing applyTo$/],
      ["  configPatches: [{applyTo: CLUSTER}]", /^error AMM0012 spec\.configPatches\[0\]\.patch: Envoy filter: missing patch$/],
      ["  configPatches: [{applyTo: CLUSTER, patch: {value: {}}}]", /patch\.operation: Envoy filter: missing patch operation$/],
      ["  configPatches: [{applyTo: CLUSTER, patch: {operation: ADD}}]", /patch\.value: Envoy filter: missing patch value for non-remove operation$/],
      ["  configPatches: [{applyTo: LISTENER_FILTR, patch: {operation: REMOVE}}]", /applyTo: Unsupported value: "LISTENER_FILTR": supported values: .*"LISTENER_FILTER"/],
      ["  configPatches: [{applyTo: CLUSTER, patch: {operation: PREPEND, value: {}}}]", /patch\.operation: Unsupported value: "PREPEND"/],
      ["  configPatches: [{applyTo: HTTP_FILTER, match: {cluster: {service: a}}, patch: {operation: REMOVE}}]", /cannot have non listener match$/],
      ["  configPatches: [{applyTo: HTTP_ROUTE, match: {listener: {}}, patch: {operation: REMOVE}}]", /cannot have non route configuration match$/],
      ["  configPatches: [{applyTo: CLUSTER, match: {listener: {}}, patch: {operation: REMOVE}}]", /cannot have non cluster match$/],
      ["  configPatches: [{applyTo: HTTP_FILTER, match: {listener: {filterChain: {filter: {subFilter: {name: x}}}}}, patch: {operation: REMOVE}}]", /filter match has no name to match on$/],
      ["  configPatches: [{applyTo: NETWORK_FILTER, match: {listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager, subFilter: {name: x}}}}}, patch: {operation: REMOVE}}]", /subfilter match can be used with applyTo HTTP_FILTER only$/],
      ["  configPatches: [{applyTo: HTTP_FILTER, match: {listener: {filterChain: {filter: {name: envoy.filters.network.tcp_proxy, subFilter: {name: x}}}}}, patch: {operation: REMOVE}}]", /subfilter match requires filter match with envoy\.filters\.network\.http_connection_manager$/],
      ["  configPatches: [{applyTo: CLUSTER, match: {proxy: {proxyVersion: '(1'}}, patch: {operation: REMOVE}}]", /invalid regex for proxy version/],
      ["  priority: 1.5", /^error AMM0012 spec\.priority: must be of type integer/],
      ["  workloadSelector: {labels: {app: x}}\n  targetRefs: [{kind: Service, name: x}]", /only one of targetRefs or workloadSelector can be set$/],
      ["  workloadSelector: {labels: {app: 'x*'}}", /wildcard is not supported in selector$/],
    ];
    for (const [spec, want] of cases) {
      const out = check(spec);
      assert.ok(out.some((l) => want.test(l)), `${spec}\n→ ${out.join("\n  ")}`);
      assert.ok(out.some((l) => NOT_APPLIED.test(l)), spec);
    }
    assert.ok(check("  configPatches: [{applyTo: FILTER_CHAIN, match: {listener: {filterChain: {filter: {name: x}}}}, patch: {operation: REMOVE}}]").some((l) => /^warning AMM0012 .*filter match has no effect when used with FILTER_CHAIN/.test(l)));
  });

  it("is served at v1alpha3 only, as in Istio", () => {
    assert.match(check("  configPatches: []", "EnvoyFilter", "networking.istio.io/v1")[0] ?? "", /EnvoyFilter is not served at networking\.istio\.io\/v1; use one of networking\.istio\.io\/v1alpha3/);
  });
});

describe("WasmPlugin and ProxyConfig", () => {
  it("are accepted with the not-applied warning (AMM1013)", () => {
    assert.deepEqual(check("  url: oci://ghcr.io/x/y:1\n  phase: AUTHN", "WasmPlugin", "extensions.istio.io/v1alpha1").map((l) => l.split(":")[0]), ["warning AMM1013 "]);
    assert.deepEqual(check("  concurrency: 2\n  environmentVariables: {A: b}", "ProxyConfig", "networking.istio.io/v1beta1").map((l) => l.split(":")[0]), ["warning AMM1013 "]);
  });
});
