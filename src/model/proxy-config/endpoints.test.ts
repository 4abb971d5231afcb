// endpointTls: Envoy's transport socket match as Istio generates it for auto mTLS.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { UpstreamTlsConfig } from "./clusters.ts";
import { endpointTls } from "./endpoints.ts";

const MESH: UpstreamTlsConfig = { mode: "ISTIO_MUTUAL", subjectAltNames: [], insecureSkipVerify: false };
const SIDECAR = { labels: { "security.istio.io/tlsMode": "istio" } };
const NO_SIDECAR = { labels: { app: "httpbin" } };

describe("endpointTls", () => {
  it("auto mTLS: mTLS to tlsMode=istio endpoints, plaintext to the others", () => {
    assert.equal(endpointTls({ tls: MESH, autoMtls: true }, SIDECAR), MESH);
    assert.equal(endpointTls({ tls: MESH, autoMtls: true }, NO_SIDECAR), undefined);
    assert.equal(endpointTls({ tls: MESH, autoMtls: true }, { labels: { "security.istio.io/tlsMode": "disabled" } }), undefined);
    assert.equal(endpointTls({ tls: MESH, autoMtls: true }, undefined), undefined);
  });

  it("TLS a DestinationRule set applies to every endpoint", () => {
    assert.equal(endpointTls({ tls: MESH }, NO_SIDECAR), MESH);
    assert.equal(endpointTls({}, SIDECAR), undefined);
  });
});
