import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Server } from "../../model/specs/networking.ts";
import { gatewayListenerTls, terminatesTls } from "./gateway-tls.ts";

const https = { number: 443, name: "https", protocol: "HTTPS" };
const server = (hosts: string[], tls: Record<string, unknown>): Server => ({ port: https, hosts, tls } as Server);

describe("gateway-tls: which Gateway servers terminate TLS, and with what", () => {
  it("SIMPLE / MUTUAL / OPTIONAL_MUTUAL with files or credentialName, and ISTIO_MUTUAL, terminate; passthrough modes and missing certificates do not", () => {
    const table: [Record<string, unknown>, boolean][] = [
      [{ mode: "SIMPLE", serverCertificate: "/c", privateKey: "/k" }, true],
      [{ mode: "SIMPLE", credentialName: "cred" }, true],
      [{ mode: "MUTUAL", credentialName: "cred" }, true],
      [{ mode: "OPTIONAL_MUTUAL", serverCertificate: "/c", privateKey: "/k", caCertificates: "/ca" }, true],
      [{ mode: "SIMPLE", serverCertificate: "/c" }, false],
      [{ mode: "SIMPLE", credentialName: "" }, false],
      [{ mode: "SIMPLE", credentialNames: ["a", "b"] }, false],
      [{ mode: "PASSTHROUGH" }, false],
      [{ mode: "AUTO_PASSTHROUGH" }, false],
      [{ mode: "ISTIO_MUTUAL" }, true],
    ];
    for (const [tls, want] of table) assert.equal(terminatesTls(server(["a.test"], tls)), want, JSON.stringify(tls));
  });

  it("one entry per server: hosts without namespace, the secret name or the files, the CRL only where client certificates are checked", () => {
    const out = gatewayListenerTls([
      server(["ns/a.test"], { mode: "SIMPLE", credentialName: "a-cred", caCrl: "/ignored.pem" }),
      server(["b.test"], { mode: "MUTUAL", serverCertificate: "/b.crt", privateKey: "/b.key", caCertificates: "/ca.crt", caCrl: "/crl.pem", subjectAltNames: ["spiffe://x"] }),
      server(["c.test"], { mode: "OPTIONAL_MUTUAL", credentialName: "c-cred", minProtocolVersion: "TLSV1_3" }),
      server(["d.test"], { mode: "PASSTHROUGH" }),
      server(["*.local"], { mode: "ISTIO_MUTUAL", subjectAltNames: ["spiffe://cluster.local/ns/a/sa/b"] }),
    ]);
    assert.deepEqual(out, {
      servers: [
        { hosts: ["a.test"], mode: "SIMPLE", credentialName: "a-cred" },
        { hosts: ["b.test"], mode: "MUTUAL", serverCertificate: "/b.crt", privateKey: "/b.key", caCertificates: "/ca.crt", caCrl: "/crl.pem", subjectAltNames: ["spiffe://x"] },
        { hosts: ["c.test"], mode: "OPTIONAL_MUTUAL", credentialName: "c-cred" },
        { hosts: ["*.local"], mode: "ISTIO_MUTUAL", subjectAltNames: ["spiffe://cluster.local/ns/a/sa/b"] },
      ],
      minProtocolVersion: "TLSv1.3",
    });
    assert.equal(gatewayListenerTls([server(["d.test"], { mode: "PASSTHROUGH" })]), undefined);
  });
});
