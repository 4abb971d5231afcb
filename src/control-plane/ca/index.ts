// The control plane's certificate authority (docs/security.md): SigningCA signs workload
// certificates; IdentityIssuer picks the CA's source (plug-in cacerts, a self-signed root kept in
// the state dir, or one in memory), checks each request against the caller's proven identity
// and remembers what each proxy was issued (`amime proxy-config secret`).
import { join } from "node:path";
import { spiffeId, x509 } from "../../core/x509.ts";
import type { CertificateRequest, CertificateResponse, CertificateSummary, SecretStatus } from "../../model/wire.ts";
import type { ProxyPrincipal } from "../auth/token.ts";
import { RevocationList } from "./revocations.ts";
import { CaError, SigningCA } from "./signing-ca.ts";

export { CaError, SigningCA } from "./signing-ca.ts";
export { RevocationError } from "./revocations.ts";

export interface IdentityIssuerOptions {
  trustDomain: string;
  /** Istio's cacerts layout: sign as an intermediate of an existing PKI. */
  cacertsDir?: string;
  /** Where the self-signed root is kept (`<state dir>/ca`); none = in memory. */
  caDir?: string;
  now: () => number;
}

export class IdentityIssuer {
  readonly #o: IdentityIssuerOptions;
  #ca: Promise<SigningCA> | null = null;
  #revocations: Promise<RevocationList> | null = null;
  readonly #issued = new Map<string, { response: CertificateResponse; at: number; count: number }>();

  constructor(o: IdentityIssuerOptions) {
    this.#o = o;
  }

  /** Load or create the CA now (at start, so a bad cacerts bundle stops the control plane). */
  ca(): Promise<SigningCA> {
    this.#ca ??= this.#o.cacertsDir !== undefined
      ? SigningCA.fromCacerts(this.#o.cacertsDir, this.#o.trustDomain, this.#o.now)
      : SigningCA.selfSigned(this.#o.caDir ?? null, this.#o.trustDomain, this.#o.now);
    return this.#ca;
  }

  /** The deny list (loaded from `<ca dir>/revoked.json` on first use). */
  revocations(): Promise<RevocationList> {
    this.#revocations ??= RevocationList.load(this.#o.caDir !== undefined ? join(this.#o.caDir, "revoked.json") : null);
    return this.#revocations;
  }

  async issue(p: ProxyPrincipal, req: CertificateRequest): Promise<CertificateResponse> {
    if (typeof req !== "object" || req === null || typeof req.csr !== "string" || (req.ttlSeconds !== undefined && typeof req.ttlSeconds !== "number")) {
      throw new CaError("CA_BAD_CSR", "body must be a CertificateRequest {csr: PEM, ttlSeconds?: number}");
    }
    const ca = await this.ca();
    const identity = spiffeId(ca.trustDomain, p.namespace, p.serviceAccount);
    if ((await this.revocations()).identityRevoked(identity)) throw new CaError("CA_REVOKED", `${identity} is revoked: no new certificate until \`amime ca unrevoke --identity ${identity}\``, 403);
    const response = await ca.sign(req.csr, p, req.ttlSeconds);
    const prev = this.#issued.get(p.node);
    this.#issued.set(p.node, { response, at: this.#o.now(), count: (prev?.count ?? 0) + 1 });
    return response;
  }

  secret(node: string): SecretStatus | null {
    const rec = this.#issued.get(node);
    if (!rec) return null;
    return {
      node,
      identity: rec.response.identity,
      issuedAt: new Date(rec.at).toISOString(),
      issued: rec.count,
      certChain: rec.response.certChain.map(summary),
      trustBundle: rec.response.trustBundle.map(summary),
    };
  }
}

export function caDirOf(stateDir: string): string {
  return join(stateDir, "ca");
}

function summary(pem: string): CertificateSummary {
  const c = new x509.X509Certificate(pem);
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    serial: c.serialNumber,
    subject: c.subject,
    issuer: c.issuer,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    uris: san ? san.names.items.filter((n) => n.type === "url").map((n) => n.value) : [],
  };
}
