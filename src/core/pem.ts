// PEM armour (RFC 7468) without any X.509 library: the sidecar writes its key and certificate
// request with node:crypto alone (src/proxy/identity/csr.ts), the CA through core/x509.ts.

/** DER bytes as one PEM block of kind `label`, 64 base64 characters a line. */
export function pem(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/** Every PEM block of one kind in `text`, in order (certificate chains, root bundles). */
export function pemBlocks(text: string, label = "CERTIFICATE"): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, "g");
  return [...text.matchAll(re)].map((m) => `${m[0]}\n`);
}

/**
 * The certificates of `first`, then those of `more` that `first` does not hold: `first` itself
 * when it holds them all (the same roots keep the same string, so a context made for it is kept).
 */
export function withCertificates(first: string, more: string): string {
  const held = new Set(pemBlocks(first));
  let added = "";
  for (const block of pemBlocks(more)) {
    if (held.has(block)) continue;
    held.add(block);
    added += block;
  }
  return added === "" ? first : `${first}${first.endsWith("\n") ? "" : "\n"}${added}`;
}
