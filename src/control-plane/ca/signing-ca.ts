// SigningCA: the mesh's certificate authority (Istio's istiod CA). Its signing certificate and
// key come from Istio's plug-in `cacerts` layout (an existing PKI signs it as an intermediate) or
// from a self-signed root generated on first start and kept in the state dir. It signs workload
// certificates (X.509 SVIDs) for the identity the caller proved, never the one a CSR asks for.
// Leaf fields follow Istio (docs/security.md): URI SAN only (critical), empty subject, 128-bit
// random serial, NotBefore 2 min back, NotAfter clamped to the signing certificate's.
import { createPrivateKey, randomBytes, type KeyObject } from "node:crypto";
import { X509Certificate } from "node:crypto";
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pemBlocks } from "../../core/pem.ts";
import { pkcs8Pem, spiffeId, x509 } from "../../core/x509.ts";
import type { CertificateResponse } from "../../model/wire.ts";
import { loadOrCreateSecret } from "../auth/secret-file.ts";

/** Istio's DEFAULT_WORKLOAD_CERT_TTL and MAX_WORKLOAD_CERT_TTL. */
export const DEFAULT_WORKLOAD_TTL_SECONDS = 24 * 3600;
export const MAX_WORKLOAD_TTL_SECONDS = 90 * 24 * 3600;
/** Istio's ClockSkewGracePeriod: NotBefore is backdated by this much. */
const CLOCK_SKEW_MS = 2 * 60_000;
/** CITADEL_SELF_SIGNED_CA_CERT_TTL: 10 years. */
const ROOT_TTL_MS = 3650 * 24 * 3600_000;

/** Istio's plug-in CA files (the `cacerts` secret mounted at ./etc/cacerts). */
export const CACERTS_FILES = ["ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"] as const;

export class CaError extends Error {
  readonly code: "CA_BAD_CSR" | "CA_IDENTITY_MISMATCH" | "CA_BAD_TTL" | "CA_EXPIRED" | "CA_BAD_BUNDLE" | "CA_REVOKED" | "CA_BOOTSTRAP_SPENT";
  /** HTTP status the API answers with. */
  readonly status: number;
  constructor(code: CaError["code"], message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

interface Signer {
  cert: x509.X509Certificate;
  key: CryptoKey;
  algorithm: Algorithm | EcdsaParams;
}

export class SigningCA {
  readonly trustDomain: string;
  /** `self-signed` (kept in `dir`) or `plug-in` (the cacerts files of `dir`). */
  readonly source: "self-signed" | "plug-in";
  readonly dir: string | null;
  readonly #signer: Signer;
  /** Certificates after the leaf in every issued chain. */
  readonly #chain: string[];
  readonly #roots: string[];
  readonly #now: () => number;

  private constructor(o: { trustDomain: string; source: SigningCA["source"]; dir: string | null; signer: Signer; chain: string[]; roots: string[]; now: () => number }) {
    this.trustDomain = o.trustDomain;
    this.source = o.source;
    this.dir = o.dir;
    this.#signer = o.signer;
    this.#chain = o.chain;
    this.#roots = o.roots;
    this.#now = o.now;
  }

  /** The signing certificate (PEM). */
  get caCert(): string {
    return this.#signer.cert.toString("pem");
  }

  get roots(): readonly string[] {
    return this.#roots;
  }

  /** SHA-256 fingerprint (hex) of the root this CA's chains end with. */
  get rootFingerprint(): string {
    return rootFingerprint(this.#chain.at(-1) as string);
  }

  /** The same signer with another trust bundle (a root rotation adds and removes roots). */
  withRoots(roots: readonly string[]): SigningCA {
    return new SigningCA({ trustDomain: this.trustDomain, source: this.source, dir: this.dir, signer: this.#signer, chain: this.#chain, roots: [...roots], now: this.#now });
  }

  /**
   * A new self-signed root for a rotation, in memory until `persist` (same key type, lifetime and
   * subject as the first one).
   */
  async nextRoot(): Promise<{ ca: SigningCA; persist: () => Promise<void>; certPem: string; keyPem: string }> {
    if (this.source !== "self-signed") throw new CaError("CA_BAD_BUNDLE", "a plug-in CA (--cacerts) is rotated by its owner: put the new intermediate and root in the cacerts files (both roots in root-cert.pem while workloads move) and restart");
    const { signer, keyPem } = await generateRoot(this.trustDomain, this.#now());
    const certPem = signer.cert.toString("pem") + "\n";
    const ca = new SigningCA({ trustDomain: this.trustDomain, source: "self-signed", dir: this.dir, signer, chain: [certPem], roots: [...this.#roots, certPem], now: this.#now });
    return { ca, persist: () => persistRoot(this.dir, certPem, keyPem), certPem, keyPem };
  }

  /**
   * The root another replica made for a rotation (shared through etcd), trusted beside this CA's
   * roots; `persist` keeps it in this CA's dir.
   */
  async adoptRoot(certPem: string, keyPem: string): Promise<{ ca: SigningCA; persist: () => Promise<void> }> {
    const signer = await importSigner(certPem, keyPem, "the rotation's new root");
    const roots = this.#roots.some((r) => sameCert(r, certPem)) ? [...this.#roots] : [...this.#roots, certPem];
    const ca = new SigningCA({ trustDomain: this.trustDomain, source: "self-signed", dir: this.dir, signer, chain: [certPem], roots, now: this.#now });
    return { ca, persist: () => persistRoot(this.dir, certPem, keyPem) };
  }

  /**
   * Istio's plug-in layout: ca-cert.pem (signing cert), ca-key.pem, root-cert.pem (the root(s)),
   * cert-chain.pem (ca-cert up to the root). All four are required, and the key must match.
   */
  static async fromCacerts(dir: string, trustDomain: string, now: () => number = Date.now): Promise<SigningCA> {
    const missing: string[] = [];
    for (const f of CACERTS_FILES) await access(join(dir, f)).catch(() => missing.push(f));
    if (missing.length > 0) throw new CaError("CA_BAD_BUNDLE", `incomplete signing CA bundle in ${dir}: missing ${missing.join(", ")} (Istio's cacerts layout needs ${CACERTS_FILES.join(", ")})`);
    const read = (f: string): Promise<string> => readFile(join(dir, f), "utf8");
    const [certPem, keyPem, rootPem, chainPem] = await Promise.all(CACERTS_FILES.map(read)) as [string, string, string, string];
    const signer = await importSigner(certPem, keyPem, join(dir, "ca-key.pem"));
    const roots = pemBlocks(rootPem);
    const chain = pemBlocks(chainPem);
    if (roots.length === 0) throw new CaError("CA_BAD_BUNDLE", `${join(dir, "root-cert.pem")} holds no certificate`);
    if (chain.length === 0 || !sameCert(chain[0] as string, certPem)) throw new CaError("CA_BAD_BUNDLE", `${join(dir, "cert-chain.pem")} must start with ca-cert.pem`);
    return new SigningCA({ trustDomain, source: "plug-in", dir, signer, chain, roots, now });
  }

  /**
   * The self-signed root of `<dir>` (ca-cert.pem, ca-key.pem 0600, root-cert.pem), generated on
   * first start: RSA 2048, 10 years, O=<trust domain>, as istiod's self-signed CA.
   */
  static async selfSigned(dir: string | null, trustDomain: string, now: () => number = Date.now): Promise<SigningCA> {
    if (dir !== null) {
      const keyFile = join(dir, "ca-key.pem");
      const exists = await access(keyFile).then(() => true, () => false);
      if (exists) {
        const [certPem, keyPem] = await Promise.all([readFile(join(dir, "ca-cert.pem"), "utf8"), loadOrCreateSecret(keyFile, () => "")]);
        const signer = await importSigner(certPem, keyPem.toString("utf8"), keyFile);
        return new SigningCA({ trustDomain, source: "self-signed", dir, signer, chain: [certPem], roots: [certPem], now });
      }
    }
    const { signer, keyPem } = await generateRoot(trustDomain, now());
    const certPem = signer.cert.toString("pem") + "\n";
    if (dir !== null) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // The key first, exclusively: a second process starting at once fails here instead of
      // writing a different root.
      await loadOrCreateSecret(join(dir, "ca-key.pem"), () => keyPem);
      await writeFile(join(dir, "ca-cert.pem"), certPem);
      await writeFile(join(dir, "root-cert.pem"), certPem);
    }
    return new SigningCA({ trustDomain, source: "self-signed", dir, signer, chain: [certPem], roots: [certPem], now });
  }

  /**
   * Sign `csrPem` for the workload `namespace/serviceAccount` (the caller's proven identity).
   * The CSR's key must have signed it; any name it carries must be exactly that identity.
   */
  async sign(csrPem: string, who: { namespace: string; serviceAccount: string }, ttlSeconds?: number): Promise<CertificateResponse> {
    const identity = spiffeId(this.trustDomain, who.namespace, who.serviceAccount);
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (e) {
      throw new CaError("CA_BAD_CSR", `not a PEM certificate request: ${(e as Error).message}`);
    }
    if (!(await csr.verify().catch(() => false))) throw new CaError("CA_BAD_CSR", "the certificate request's signature does not verify");
    const asked = requestedNames(csr);
    const foreign = asked.filter((n) => n !== identity);
    if (foreign.length > 0) throw new CaError("CA_IDENTITY_MISMATCH", `the request asks for ${foreign.join(", ")}, but the caller is ${identity}`, 403);
    const ttl = ttlSeconds === undefined || ttlSeconds <= 0 ? DEFAULT_WORKLOAD_TTL_SECONDS : ttlSeconds;
    if (ttl > MAX_WORKLOAD_TTL_SECONDS) throw new CaError("CA_BAD_TTL", `requested TTL ${ttl}s is greater than the max allowed TTL ${MAX_WORKLOAD_TTL_SECONDS}s`);
    const now = this.#now();
    const caNotAfter = this.#signer.cert.notAfter.getTime();
    if (caNotAfter <= now) throw new CaError("CA_EXPIRED", `the signing certificate expired at ${new Date(caNotAfter).toISOString()}`, 503);
    const notBefore = new Date(Math.floor((now - CLOCK_SKEW_MS) / 1000) * 1000);
    const notAfter = new Date(Math.min(Math.floor((now + ttl * 1000) / 1000) * 1000, caNotAfter));
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: "",
      issuer: this.#signer.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: csr.publicKey,
      signingKey: this.#signer.key,
      signingAlgorithm: this.#signer.algorithm,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.#signer.cert.publicKey),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: identity }], true),
      ],
    });
    return {
      identity,
      serial: leaf.serialNumber,
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
      certChain: [`${leaf.toString("pem")}\n`, ...this.#chain],
      trustBundle: [...this.#roots],
    };
  }

  /**
   * The control plane's own serving certificate (its API and push stream over TLS): DNS and IP
   * SANs naming its addresses, serverAuth only, signed like a workload certificate (NotBefore
   * backdated, NotAfter clamped to the signing certificate's). The chain ends with the root.
   */
  async signServing(publicKey: CryptoKey, names: { dns: readonly string[]; ips: readonly string[] }, ttlSeconds: number): Promise<{ certChain: string[]; notAfter: Date }> {
    const now = this.#now();
    const caNotAfter = this.#signer.cert.notAfter.getTime();
    if (caNotAfter <= now) throw new CaError("CA_EXPIRED", `the signing certificate expired at ${new Date(caNotAfter).toISOString()}`, 503);
    const notAfter = new Date(Math.min(Math.floor((now + ttlSeconds * 1000) / 1000) * 1000, caNotAfter));
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: "O=amime,CN=control-plane",
      issuer: this.#signer.cert.subjectName,
      notBefore: new Date(Math.floor((now - CLOCK_SKEW_MS) / 1000) * 1000),
      notAfter,
      publicKey,
      signingKey: this.#signer.key,
      signingAlgorithm: this.#signer.algorithm,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.#signer.cert.publicKey),
        new x509.SubjectAlternativeNameExtension([...names.dns.map((value) => ({ type: "dns" as const, value })), ...names.ips.map((value) => ({ type: "ip" as const, value }))]),
      ],
    });
    return { certChain: [`${leaf.toString("pem")}\n`, ...this.#chain], notAfter };
  }
}

/** A rotation's new root made permanent in the CA dir: the key first (0600, replaced atomically), then the certificate files that name it. */
async function persistRoot(dir: string | null, certPem: string, keyPem: string): Promise<void> {
  if (dir === null) return;
  const tmp = join(dir, `ca-key.pem.${process.pid}.tmp`);
  await writeFile(tmp, keyPem, { mode: 0o600 });
  await rename(tmp, join(dir, "ca-key.pem"));
  await writeFile(join(dir, "ca-cert.pem"), certPem);
  await writeFile(join(dir, "root-cert.pem"), certPem);
}

/** SHA-256 fingerprint of a PEM certificate, lower-case hex without colons. */
export function rootFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
}

/** Every name a CSR asks for: subject CN and SAN entries, as strings. */
function requestedNames(csr: x509.Pkcs10CertificateRequest): string[] {
  const names: string[] = [];
  for (const cn of csr.subjectName.getField("CN")) names.push(cn);
  for (const ext of csr.extensions) {
    if (ext instanceof x509.SubjectAlternativeNameExtension) for (const n of ext.names.items) names.push(n.value);
  }
  return names;
}

/** 128 random bits, first bit clear (a positive INTEGER), as Istio's serials. */
function randomSerial(): string {
  const b = randomBytes(16);
  // Positive (top bit clear) and never a leading zero byte, which DER would drop: always 16 bytes, 32 hex digits.
  b[0] = ((b[0] as number) & 0x7f) || 0x01;
  return b.toString("hex");
}

function sameCert(a: string, b: string): boolean {
  return new x509.X509Certificate(a).equal(new x509.X509Certificate(b));
}

async function generateRoot(trustDomain: string, now: number): Promise<{ signer: Signer; keyPem: string }> {
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = (await globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `O=${trustDomain}`,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + ROOT_TTL_MS),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = pkcs8Pem(pkcs8);
  return { signer: { cert, key: keys.privateKey, algorithm }, keyPem };
}

/** Any PEM key Istio's cacerts may hold (PKCS#8, PKCS#1 RSA, SEC1 EC) into WebCrypto; it must match the certificate. */
async function importSigner(certPem: string, keyPem: string, keyFile: string): Promise<Signer> {
  let cert: x509.X509Certificate;
  let ko: KeyObject;
  try {
    cert = new x509.X509Certificate(certPem);
    ko = createPrivateKey(keyPem);
  } catch (e) {
    throw new CaError("CA_BAD_BUNDLE", `cannot read the signing certificate or ${keyFile}: ${(e as Error).message}`);
  }
  const pkcs8 = ko.export({ format: "der", type: "pkcs8" });
  let algorithm: Algorithm | EcdsaParams;
  let importAlg: Algorithm | RsaHashedImportParams | EcKeyImportParams;
  if (ko.asymmetricKeyType === "rsa") {
    algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm;
    importAlg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  } else if (ko.asymmetricKeyType === "ec") {
    const curve = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" }[ko.asymmetricKeyDetails?.namedCurve ?? ""];
    if (curve === undefined) throw new CaError("CA_BAD_BUNDLE", `${keyFile}: unsupported EC curve ${ko.asymmetricKeyDetails?.namedCurve}`);
    algorithm = { name: "ECDSA", hash: curve === "P-384" ? "SHA-384" : curve === "P-521" ? "SHA-512" : "SHA-256" } as EcdsaParams;
    importAlg = { name: "ECDSA", namedCurve: curve };
  } else {
    throw new CaError("CA_BAD_BUNDLE", `${keyFile}: unsupported key type ${ko.asymmetricKeyType}`);
  }
  const key = await globalThis.crypto.subtle.importKey("pkcs8", pkcs8, importAlg, false, ["sign"]);
  // The key must be the certificate's: sign something and verify it with the certificate's key.
  const probe = Buffer.from("amime ca key check");
  const sig = await globalThis.crypto.subtle.sign(algorithm, key, probe);
  const pub = await cert.publicKey.export(importAlg, ["verify"]);
  if (!(await globalThis.crypto.subtle.verify(algorithm, pub, sig, probe))) throw new CaError("CA_BAD_BUNDLE", `${keyFile} is not the key of the signing certificate`);
  return { cert, key, algorithm };
}
