// The control plane's certificate authority (docs/security.md): SigningCA signs workload
// certificates; IdentityIssuer picks the CA's source (plug-in cacerts, a self-signed root kept in
// the state dir, or one in memory), checks each request against the caller's proven identity
// — a proxy's bootstrap credential for its first certificate, its current certificate for every
// renewal — and remembers what each proxy was issued (`amime proxy-config secret`).
import { join } from "node:path";
import { spiffeId, x509 } from "../../core/x509.ts";
import type { CertificateRequest, CertificateResponse, CertificateSummary, SecretStatus } from "../../model/wire.ts";
import type { ProxyPrincipal, WorkloadPrincipal } from "../auth/token.ts";
import { answerAgain, bareSerial as normalSerial, bootstrapAnswer } from "./bootstrap-answer.ts";
import { BootstrapLedger } from "./bootstrap-ledger.ts";
import { RevocationList } from "./revocations.ts";
import type { SharedCaLedger, SpentCredential } from "./shared-ledger.ts";
import { CaError, rootFingerprint, SigningCA } from "./signing-ca.ts";

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
  #ledger: Promise<BootstrapLedger> | null = null;
  /** Which node each issued serial went to (renewals name no node). */
  readonly #nodeOfSerial = new Map<string, string>();
  readonly #issued = new Map<string, { response: CertificateResponse; at: number; count: number }>();
  #shared: SharedCaLedger | null = null;
  /** The bootstrap request being answered for each credential (jti), the last one to wait for. */
  readonly #issuing = new Map<string, Promise<CertificateResponse>>();

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

  /** Keep spent credentials and the node of each serial there (replicas on etcd), not per replica. */
  shareWith(ledger: SharedCaLedger): void {
    this.#shared = ledger;
  }

  /** Sign from now on with `ca` (a root rotation's steps). */
  replace(ca: SigningCA): void {
    this.#ca = Promise.resolve(ca);
  }

  /** Fingerprint of the root the certificate last issued to `node` chains to; undefined before one. */
  rootOf(node: string): string | undefined {
    const chain = this.#issued.get(node)?.response.certChain;
    return chain === undefined || chain.length === 0 ? undefined : rootFingerprint(chain.at(-1) as string);
  }

  /** As rootOf, from what any replica issued last (etcd) when the CA is shared. */
  async latestRootOf(node: string): Promise<string | undefined> {
    return (await this.#shared?.rootOf(node)) ?? this.rootOf(node);
  }

  /** The deny list (loaded from `<ca dir>/revoked.json` on first use). */
  revocations(): Promise<RevocationList> {
    this.#revocations ??= RevocationList.load(this.#o.caDir !== undefined ? join(this.#o.caDir, "revoked.json") : null);
    return this.#revocations;
  }

  /** Which bootstrap credentials are spent (`<ca dir>/bootstrap-spent.json`). */
  ledger(): Promise<BootstrapLedger> {
    this.#ledger ??= BootstrapLedger.load(this.#o.caDir !== undefined ? join(this.#o.caDir, "bootstrap-spent.json") : null);
    return this.#ledger;
  }

  /**
   * The first certificate of a proxy process, for its bootstrap credential. Each credential gets
   * one; again only once the certificate it got was revoked by serial. The same request again (a
   * lost answer's retry) gets that certificate again (bootstrap-answer.ts).
   */
  async issue(p: ProxyPrincipal, req: CertificateRequest): Promise<CertificateResponse> {
    const jti = p.jti;
    if (jti === undefined) return this.#issue(p, req);
    // One request per credential at a time: a retry that arrives while the first is still being
    // signed (its answer timed out at the proxy under load) waits for it, then reads its record.
    // Across replicas the spent mark's compare-and-set does this.
    const mine = (this.#issuing.get(jti) ?? Promise.resolve()).catch(() => {}).then(() => this.#issue(p, req));
    this.#issuing.set(jti, mine);
    try {
      return await mine;
    } finally {
      if (this.#issuing.get(jti) === mine) this.#issuing.delete(jti);
    }
  }

  async #issue(p: ProxyPrincipal, req: CertificateRequest): Promise<CertificateResponse> {
    checkRequest(req);
    const ca = await this.ca();
    const identity = spiffeId(ca.trustDomain, p.namespace, p.serviceAccount);
    const revocations = await this.revocations();
    if (revocations.identityRevoked(identity)) throw revokedIdentity(identity);
    const shared = this.#shared;
    const ledger = shared === null ? await this.ledger() : null;
    let previous: SpentCredential | undefined;
    if (p.jti !== undefined) previous = shared !== null ? await shared.spent(p.jti) : (ledger as BootstrapLedger).spent(p.jti);
    if (previous !== undefined && !revocations.serialRevoked(previous.serial)) {
      // The same request again (a proxy whose first answer timed out after the CA issued it, here,
      // before a restart, or at another replica): the same certificate again, not a second one.
      const again = answerAgain(previous, req.csr, this.#o.now(), ca.roots);
      if (again === null) throw spentCredential(previous.serial);
      this.#record(p.node, again);
      return again;
    }
    const response = await ca.sign(req.csr, p, req.ttlSeconds);
    const serial = normalSerial(response.serial);
    if (p.jti !== undefined) {
      const answer = bootstrapAnswer(req.csr, response);
      // Another replica may have issued for this credential since it was read: that one counts.
      if (shared !== null && !(await shared.claim(p.jti, answer, p.node, previous))) throw spentCredential((await shared.spent(p.jti))?.serial ?? "?");
      if (ledger !== null) await ledger.record(p.jti, answer, this.#o.now());
    }
    await shared?.noteSerial(serial, p.node, new Date(response.notAfter), ca.rootFingerprint);
    this.#record(p.node, response);
    return response;
  }

  /**
   * A renewal authenticated by the workload's current certificate (verified against the roots by
   * the TLS handshake): same identity, unless that certificate or identity is revoked.
   */
  async renew(w: WorkloadPrincipal, req: CertificateRequest): Promise<CertificateResponse> {
    checkRequest(req);
    const ca = await this.ca();
    if (w.trustDomain !== ca.trustDomain) throw new CaError("CA_IDENTITY_MISMATCH", `${w.identity} is not in this mesh's trust domain ${ca.trustDomain}`, 403);
    const revocations = await this.revocations();
    if (revocations.identityRevoked(w.identity)) throw revokedIdentity(w.identity);
    if (revocations.serialRevoked(w.serial)) throw new CaError("CA_REVOKED", `certificate serial ${w.serial} is revoked: it cannot renew itself (the proxy asks with its bootstrap credential instead)`, 403);
    const response = await ca.sign(req.csr, w, req.ttlSeconds);
    const serial = normalSerial(w.serial);
    // A certificate another replica issued: etcd knows whose it is.
    const node = this.#nodeOfSerial.get(serial) ?? (await this.#shared?.nodeOf(serial)) ?? w.identity;
    await this.#shared?.noteSerial(normalSerial(response.serial), node, new Date(response.notAfter), ca.rootFingerprint);
    this.#record(node, response);
    return response;
  }

  #record(node: string, response: CertificateResponse): void {
    const prev = this.#issued.get(node);
    // The same certificate answered again is not one more.
    const again = prev !== undefined && normalSerial(prev.response.serial) === normalSerial(response.serial);
    this.#issued.set(node, { response, at: again ? prev.at : this.#o.now(), count: (prev?.count ?? 0) + (again ? 0 : 1) });
    this.#nodeOfSerial.set(normalSerial(response.serial), node);
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

function spentCredential(serial: string): CaError {
  return new CaError("CA_BOOTSTRAP_SPENT", `this bootstrap credential already got its certificate (serial ${serial}); renewals are authenticated by the current certificate (TLS client certificate), see docs/security.md`, 403);
}

function checkRequest(req: CertificateRequest): void {
  if (typeof req !== "object" || req === null || typeof req.csr !== "string" || (req.ttlSeconds !== undefined && typeof req.ttlSeconds !== "number")) {
    throw new CaError("CA_BAD_CSR", "body must be a CertificateRequest {csr: PEM, ttlSeconds?: number}");
  }
}

function revokedIdentity(identity: string): CaError {
  return new CaError("CA_REVOKED", `${identity} is revoked: no new certificate until \`amime ca unrevoke --identity ${identity}\``, 403);
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
