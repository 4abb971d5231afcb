import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sidecarEnv } from "./sidecar-node-flags.ts";

describe("sidecarEnv", () => {
  it("moves NODE_EXTRA_CA_CERTS to AMIME_EXTRA_CA_CERTS and points OpenSSL's default store at nothing", () => {
    const env = sidecarEnv({ PATH: "/bin", NODE_EXTRA_CA_CERTS: "/etc/corp-ca.pem", SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt", SSL_CERT_DIR: "/etc/ssl/certs", UNSET: undefined });
    assert.deepEqual(env, { PATH: "/bin", AMIME_EXTRA_CA_CERTS: "/etc/corp-ca.pem", SSL_CERT_FILE: "/dev/null", SSL_CERT_DIR: "/dev/null", MALLOC_MMAP_THRESHOLD_: "131072" });
  });

  it("without NODE_EXTRA_CA_CERTS adds no extra certificates", () => {
    assert.equal(sidecarEnv({ NODE_EXTRA_CA_CERTS: "" }).AMIME_EXTRA_CA_CERTS, undefined);
    assert.equal(sidecarEnv({}).AMIME_EXTRA_CA_CERTS, undefined);
  });
});
