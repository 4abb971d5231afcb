// The sidecar's default trust: what verifies a server when the config names no CA — DestinationRule
// SIMPLE / MUTUAL origination without `caCertificates` (or a `credentialName` secret without a CA),
// remote JWKS and HTTPS telemetry exporters. As in Istio, where such a cluster validates against the
// SDS resource `file-root:system` and pilot-agent resolves it to the first existing system CA bundle
// (the list below, Go's crypto/x509 root_linux.go order), it is the image's CA bundle file; plus the
// certificates the user gave Node in `NODE_EXTRA_CA_CERTS`, which the launcher passes on as
// `AMIME_EXTRA_CA_CERTS` (src/core/sidecar-node-flags.ts), so nobody's trust narrows.
//
// Why not Node's own default store: sidecars run with `--use-openssl-ca` and OpenSSL's default store
// pointed at nothing, so loading `node:tls` parses no roots at start (Node's bundled ones, ≈ 0.85 MB
// kept, and the extra file, ≈ 1 MB here; docs/performance.md, "Session 12: the default trust store").
// The bundle is read at the first connection that needs it and kept; a sidecar whose config trusts
// only its own CAs never reads it. No bundle is an error at that connection (and one warning in the
// log), never a context that trusts nothing or everything.
import type { SecureContext } from "node:tls";
import { fs, tlsModule } from "../../core/builtins.ts";
import { EXTRA_CA_CERTS_ENV } from "../../core/sidecar-node-flags.ts";

/** Where Istio's agent looks for the system CA bundle, first existing wins. */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Gentoo
  "/etc/pki/tls/certs/ca-bundle.crt", // Fedora, RHEL 6
  "/etc/ssl/ca-bundle.pem", // OpenSUSE
  "/etc/pki/tls/cacert.pem", // OpenELEC
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
  "/etc/ssl/cert.pem", // Alpine
];

/** The bundle file to use instead of searching SYSTEM_CA_BUNDLES (an image that keeps it elsewhere). */
export const CA_BUNDLE_ENV = "AMIME_CA_BUNDLE";

export class DefaultTrustError extends Error {
  readonly code = "TLS_NO_DEFAULT_TRUST";
  constructor(message: string) {
    super(`default trust: ${message}`);
    this.name = "DefaultTrustError";
  }
}

let ca: readonly string[] | undefined;
let context: SecureContext | undefined;
let warned = "";

/**
 * The PEM certificates trusted by default (the bundle, then the extra file). Read once; while
 * they cannot be read, each call tries again and throws DefaultTrustError (logged once).
 */
export function defaultTrustCa(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  if (ca !== undefined) return ca;
  try {
    ca = readDefaultTrust(env);
  } catch (e) {
    const message = (e as Error).message;
    if (message !== warned) process.stderr.write(`amime proxy: warning: ${message}\n`);
    warned = message;
    throw e;
  }
  return ca;
}

/** One context that verifies against the default trust, for clients that bring no certificate of their own. */
export function defaultTrustContext(): SecureContext {
  context ??= tlsModule().createSecureContext({ ca: [...defaultTrustCa()] });
  return context;
}

/** The default trust plus `roots` (the mesh's), for an exporter that trusts both; the same object while `roots` is. */
let withRoots: { roots: string; context: SecureContext } | undefined;
export function defaultTrustContextWith(roots: string): SecureContext {
  if (withRoots?.roots !== roots) withRoots = { roots, context: tlsModule().createSecureContext({ ca: [...defaultTrustCa(), roots] }) };
  return withRoots.context;
}

/** The bundle (CA_BUNDLE_ENV, else the first of `candidates` that exists), then the extra file; throws DefaultTrustError. */
export function readDefaultTrust(env: NodeJS.ProcessEnv, candidates: readonly string[] = SYSTEM_CA_BUNDLES): readonly string[] {
  const named = env[CA_BUNDLE_ENV];
  const bundle = named !== undefined && named !== "" ? named : candidates.find((p) => fs.existsSync(p));
  if (bundle === undefined) {
    throw new DefaultTrustError(`no system CA bundle (none of ${candidates.join(", ")} exists, and ${CA_BUNDLE_ENV} is not set): servers are verified only against a configured caCertificates`);
  }
  const out = [readPem(bundle, named === bundle ? CA_BUNDLE_ENV : "system CA bundle")];
  // A proxy started by hand (`amime proxy` without the launcher's environment) still has the variable
  // itself: Node parsed it at start then, and the default trust honours it as well.
  const [name, extra] = nonEmpty(env[EXTRA_CA_CERTS_ENV]) ? [`${EXTRA_CA_CERTS_ENV} (NODE_EXTRA_CA_CERTS)`, env[EXTRA_CA_CERTS_ENV]] : ["NODE_EXTRA_CA_CERTS", env.NODE_EXTRA_CA_CERTS];
  if (nonEmpty(extra)) out.push(readPem(extra, name));
  return out;
}

function nonEmpty(v: string | undefined): v is string {
  return v !== undefined && v !== "";
}

function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new DefaultTrustError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new DefaultTrustError(`${what} ${path} holds no PEM certificate`);
  return text;
}

/** Forget what was read (tests that point the environment elsewhere). */
export function resetDefaultTrust(): void {
  ca = undefined;
  context = undefined;
  withRoots = undefined;
  warned = "";
}
