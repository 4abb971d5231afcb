import { after, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CA_BUNDLE_ENV, defaultTrustCa, DefaultTrustError, readDefaultTrust, resetDefaultTrust } from "./default-trust.ts";
import { EXTRA_CA_CERTS_ENV } from "../../core/sidecar-node-flags.ts";

// Read as text only (the TLS contexts parse it): any PEM certificate block will do here.
const PEM = (n: string): string => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;

describe("default trust (the system CA bundle, read when first needed)", () => {
  const dir = mkdtempSync(join(tmpdir(), "amime-default-trust-"));
  const bundle = join(dir, "bundle.pem");
  const extra = join(dir, "extra.pem");
  writeFileSync(bundle, PEM("bundle"));
  writeFileSync(extra, PEM("extra"));
  writeFileSync(join(dir, "empty.pem"), "");
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => resetDefaultTrust());

  it("takes the first existing of the candidate paths, in Istio's order", () => {
    assert.deepEqual(readDefaultTrust({}, [join(dir, "missing.crt"), bundle, extra]), [PEM("bundle")]);
  });

  it("adds the extra certificates the launcher passed on (the user's NODE_EXTRA_CA_CERTS)", () => {
    assert.deepEqual(readDefaultTrust({ [EXTRA_CA_CERTS_ENV]: extra }, [bundle]), [PEM("bundle"), PEM("extra")]);
  });

  it("a proxy started without the launcher's environment honours NODE_EXTRA_CA_CERTS itself (the launcher's copy wins)", () => {
    assert.deepEqual(readDefaultTrust({ NODE_EXTRA_CA_CERTS: extra }, [bundle]), [PEM("bundle"), PEM("extra")]);
    assert.deepEqual(readDefaultTrust({ NODE_EXTRA_CA_CERTS: bundle, [EXTRA_CA_CERTS_ENV]: extra }, [bundle]), [PEM("bundle"), PEM("extra")]);
  });

  it("AMIME_CA_BUNDLE names the bundle instead of the search", () => {
    assert.deepEqual(readDefaultTrust({ [CA_BUNDLE_ENV]: extra }, [bundle]), [PEM("extra")]);
  });

  it("no bundle, an unreadable one or one without certificates: a DefaultTrustError naming it, never an empty trust", () => {
    const none = (): unknown => readDefaultTrust({}, [join(dir, "a.crt"), join(dir, "b.crt")]);
    assert.throws(none, (e: unknown) => e instanceof DefaultTrustError && e.code === "TLS_NO_DEFAULT_TRUST" && e.message.includes(join(dir, "a.crt")) && e.message.includes(join(dir, "b.crt")));
    assert.throws(() => readDefaultTrust({ [CA_BUNDLE_ENV]: join(dir, "missing.crt") }), /cannot read AMIME_CA_BUNDLE .*missing\.crt: ENOENT/);
    assert.throws(() => readDefaultTrust({ [CA_BUNDLE_ENV]: join(dir, "empty.pem") }), /empty\.pem holds no PEM certificate/);
    assert.throws(() => readDefaultTrust({ [EXTRA_CA_CERTS_ENV]: join(dir, "missing.crt") }, [bundle]), /AMIME_EXTRA_CA_CERTS \(NODE_EXTRA_CA_CERTS\) .*missing\.crt/);
  });

  it("is read once; while it cannot be read, each use tries again", () => {
    assert.throws(() => defaultTrustCa({ [CA_BUNDLE_ENV]: join(dir, "late.pem") }), DefaultTrustError);
    writeFileSync(join(dir, "late.pem"), PEM("late"));
    assert.deepEqual(defaultTrustCa({ [CA_BUNDLE_ENV]: join(dir, "late.pem") }), [PEM("late")]);
    rmSync(join(dir, "late.pem"));
    assert.deepEqual(defaultTrustCa({ [CA_BUNDLE_ENV]: join(dir, "late.pem") }), [PEM("late")]);
  });
});
