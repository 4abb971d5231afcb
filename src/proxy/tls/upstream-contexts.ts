// UpstreamTlsContexts: the TLS contexts of clusters that originate TLS (DestinationRule SIMPLE /
// MUTUAL), one per distinct set of files or `credentialName`, made on the first connection and
// kept watching their files or secret (secrets/watched-credential.ts): a changed client
// certificate, CA or CRL is used by the next connection, pooled connections keep theirs. One per
// proxy; config pushes keep it, and forget the contexts no cluster uses any more. A setting that
// names no CA verifies the server against the default trust (default-trust.ts: the system CA bundle,
// as Istio's `file-root:system`).
import type { SecureContext } from "node:tls";
import type { UpstreamTlsConfig } from "../../model/proxy-config.ts";
import { defaultTrustContext } from "./default-trust.ts";
import { WatchedCredential, type CredentialDeps, type CredentialSpec } from "./secrets/watched-credential.ts";

export class UpstreamTlsContexts {
  private readonly deps: CredentialDeps;
  private readonly byKey = new Map<string, WatchedCredential>();

  constructor(deps: CredentialDeps) {
    this.deps = deps;
  }

  /**
   * The context for a cluster's SIMPLE / MUTUAL settings; when they name no file and no secret, the
   * default trust's (undefined with insecureSkipVerify: nothing is verified). Throws CredentialError
   * for a file that cannot be read or used and DefaultTrustError when the default trust is needed
   * but there is none; returns null while a secret is missing (the connection fails).
   */
  contextFor(tls: UpstreamTlsConfig): SecureContext | null | undefined {
    const cred = this.credentialFor(tls);
    if (cred !== undefined) return cred.context;
    return tls.mode === "ISTIO_MUTUAL" || tls.insecureSkipVerify ? undefined : defaultTrustContext();
  }

  /** Why contextFor gave null (for the connection's error). */
  errorFor(tls: UpstreamTlsConfig): string | null {
    return this.credentialFor(tls)?.error ?? null;
  }

  /** A cluster's tls object → its credential: a connection costs a WeakMap lookup, not a key built anew. */
  private readonly byConfig = new WeakMap<UpstreamTlsConfig, WatchedCredential | null>();

  private credentialFor(tls: UpstreamTlsConfig): WatchedCredential | undefined {
    const known = this.byConfig.get(tls);
    if (known !== undefined && (known === null || !known.closed)) return known ?? undefined;
    const spec = specOf(tls);
    if (spec === undefined) {
      this.byConfig.set(tls, null);
      return undefined;
    }
    const key = keyOf(spec);
    let cred = this.byKey.get(key);
    if (cred === undefined) {
      cred = new WatchedCredential(spec, this.deps);
      this.byKey.set(key, cred);
    }
    this.byConfig.set(tls, cred);
    return cred;
  }

  /** Stop watching what none of `used` needs (after a config push). */
  retain(used: readonly (UpstreamTlsConfig | undefined)[]): void {
    const keep = new Set<string>();
    for (const t of used) {
      const spec = t !== undefined ? specOf(t) : undefined;
      if (spec !== undefined) keep.add(keyOf(spec));
    }
    for (const [key, cred] of this.byKey) {
      if (keep.has(key)) continue;
      cred.close();
      this.byKey.delete(key);
    }
  }

  /** Resolves once every reload in progress is done (tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.byKey.values()].map((c) => c.settled()));
  }

  close(): void {
    this.retain([]);
  }
}

function keyOf(spec: CredentialSpec): string {
  return JSON.stringify(spec);
}

/** What a cluster's context is made from; undefined when there is nothing to load. */
function specOf(tls: UpstreamTlsConfig): CredentialSpec | undefined {
  if (tls.mode === "ISTIO_MUTUAL") return undefined;
  const mutual = tls.mode === "MUTUAL";
  const spec: CredentialSpec = {};
  if (tls.credentialName !== undefined) {
    spec.credentialName = tls.credentialName;
    spec.needCert = mutual;
  } else {
    if (tls.caCertificates !== undefined) spec.ca = tls.caCertificates;
    if (mutual && tls.clientCertificate !== undefined) spec.cert = tls.clientCertificate;
    if (mutual && tls.privateKey !== undefined) spec.key = tls.privateKey;
  }
  if (tls.caCrl !== undefined) spec.crl = tls.caCrl;
  if (Object.keys(spec).length === 0) return undefined;
  // Without a CA of its own (none in the files or the secret), the server is verified against the default trust.
  if (!tls.insecureSkipVerify && spec.ca === undefined) spec.defaultCa = true;
  return spec;
}
