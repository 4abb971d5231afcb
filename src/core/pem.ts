// PEM armour (RFC 7468) without any X.509 library: the sidecar writes its key and certificate
// request with node:crypto alone (src/proxy/identity/csr.ts), the CA through core/x509.ts.

/** DER bytes as one PEM block of kind `label`, 64 base64 characters a line. */
export function pem(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}
