// WatchedCredential: one TLS context made from certificate files or a `credentialName`, kept up to
// date. The files (or the secret store) are watched; on a change the material is re-read off the
// request path and a new SecureContext is built, which new handshakes use; connections already
// open keep the context they were made with. A reload that fails (a half-written file, a key that
// does not match its certificate yet) keeps the last good context and is logged.
import type { SecureContext, SecureContextOptions } from "node:tls";
import { resolveCredential, type CredentialMaterial } from "./resolve-credential.ts";
import type { SecretStore } from "./secret-store.ts";
import { Reloader, watchFiles } from "./watch.ts";
import { fs, readFileAsync, tlsModule } from "../../../core/builtins.ts";
import { defaultTrustCa, DefaultTrustError } from "../default-trust.ts";

/** Where the material comes from: a secret by name, or file paths (either may add a CRL file). */
export interface CredentialSpec {
  /** Secret name in the proxy's secret store (Istio's credentialName). */
  credentialName?: string;
  cert?: string;
  key?: string;
  ca?: string;
  /** CRL file (PEM); with credentialName it overrides the secret's own CRL. */
  crl?: string;
  /** A CA is required (MUTUAL servers): without one the credential is not usable. */
  needCa?: boolean;
  /** A client's: without a CA of its own, the default trust verifies the server (default-trust.ts). */
  defaultCa?: boolean;
  /** A certificate and key are required (servers, MUTUAL clients). */
  needCert?: boolean;
}

export interface CredentialDeps {
  secrets?: SecretStore | undefined;
  /** The proxy's namespace: where `credentialName` is looked up. */
  namespace: string;
  minVersion?: SecureContextOptions["minVersion"];
  log: (line: string) => void;
}

export class CredentialError extends Error {
  readonly code = "TLS_CREDENTIAL";
  constructor(message: string) {
    super(message);
    this.name = "CredentialError";
  }
}

type Material = Partial<CredentialMaterial>;

export class WatchedCredential {
  readonly spec: CredentialSpec;
  private readonly deps: CredentialDeps;
  #context: SecureContext | null = null;
  #options: SecureContextOptions | null = null;
  #error: string | null = null;
  /** The material the current context was made from: a reload that finds the same changes nothing. */
  #material = "";
  #closed = false;
  private readonly reloader: Reloader;
  private readonly stops: (() => void)[] = [];
  /** Called after each successful reload (a tls.Server refreshes its default context). */
  onReload: (() => void) | null = null;

  /**
   * Build the first context now. Unreadable or invalid files throw (the config that names them
   * is rejected, as Envoy rejects a listener whose certificate file it cannot load); a secret
   * that is missing or incomplete leaves the credential unusable until the store provides it.
   */
  constructor(spec: CredentialSpec, deps: CredentialDeps) {
    this.spec = spec;
    this.deps = deps;
    this.reloader = new Reloader(() => this.reload());
    const files = this.filePaths();
    if (spec.credentialName !== undefined) {
      const material = this.fromStore();
      if (typeof material === "string") this.fail(material);
      else this.install(this.withCrlFile(material, spec.crl !== undefined ? readSync(spec.crl, "caCrl") : undefined), true);
      if (deps.secrets !== undefined) this.stops.push(deps.secrets.subscribe(() => this.reloader.trigger()));
    } else {
      const m: Material = {};
      for (const [field, path] of files) m[field] = readSync(path, field);
      this.install(m, true);
    }
    if (files.length > 0) this.stops.push(watchFiles(files.map((f) => f[1]), () => this.reloader.trigger()));
  }

  /** The current context; null while the credential is unusable (missing secret). */
  get context(): SecureContext | null {
    return this.#context;
  }

  /** The options the current context was made from (for tls.Server#setSecureContext). */
  get options(): SecureContextOptions | null {
    return this.#options;
  }

  /** Why the credential is unusable (or why the last reload failed); null when all is well. */
  get error(): string | null {
    return this.#error;
  }

  /** Resolves once no reload is running or pending. */
  settled(): Promise<void> {
    return this.reloader.settled();
  }

  /** Closed credentials watch nothing and are not used again. */
  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    for (const s of this.stops) s();
    this.stops.length = 0;
    this.onReload = null;
  }

  private describe(): string {
    if (this.spec.credentialName !== undefined) return `credentialName "${this.spec.credentialName}"${this.spec.crl !== undefined ? ` with CRL ${this.spec.crl}` : ""}`;
    return `TLS files ${this.filePaths().map((f) => f[1]).join(", ")}`;
  }

  private filePaths(): ["cert" | "key" | "ca" | "crl", string][] {
    const s = this.spec;
    const out: ["cert" | "key" | "ca" | "crl", string][] = [];
    if (s.credentialName === undefined) {
      if (s.cert !== undefined) out.push(["cert", s.cert]);
      if (s.key !== undefined) out.push(["key", s.key]);
      if (s.ca !== undefined) out.push(["ca", s.ca]);
    }
    if (s.crl !== undefined) out.push(["crl", s.crl]);
    return out;
  }

  private fromStore(): CredentialMaterial | string {
    const name = this.spec.credentialName!;
    const store = this.deps.secrets;
    if (store === undefined) return `credentialName "${name}": this proxy has no secret store (amime proxy --secret-dir DIR)`;
    const found = resolveCredential((n) => store.find(this.deps.namespace, n), name, { cert: this.spec.needCert === true, ca: this.spec.needCa === true });
    return typeof found === "string" ? `credentialName "${name}" (namespace ${this.deps.namespace}, ${store.dir}): ${found}` : found;
  }

  private withCrlFile(m: Material, crl: string | undefined): Material {
    return crl !== undefined ? { ...m, crl } : m;
  }

  private async reload(): Promise<void> {
    let m: Material;
    if (this.spec.credentialName !== undefined) {
      const material = this.fromStore();
      if (typeof material === "string") {
        // The secret went away: Istio keeps serving what Envoy already holds; so do we.
        this.fail(`${material}${this.#context !== null ? " (keeping the previous certificate)" : ""}`);
        return;
      }
      m = material;
      if (this.spec.crl !== undefined) {
        try {
          m = this.withCrlFile(m, await readAsync(this.spec.crl, "caCrl"));
        } catch (e) {
          this.fail(`${(e as Error).message} (keeping the previous certificate)`);
          return;
        }
      }
    } else {
      m = {};
      try {
        for (const [field, path] of this.filePaths()) m[field] = await readAsync(path, field);
      } catch (e) {
        this.fail(`${(e as Error).message} (keeping the previous certificate)`);
        return;
      }
    }
    this.install(m, false);
  }

  /** Build and install a context; on the first build an invalid one throws (files) or marks the credential unusable. */
  private install(m: Material, first: boolean): void {
    const s = this.spec;
    if (s.needCert && (m.cert === undefined || m.key === undefined)) {
      this.fail(`${this.describe()}: no certificate and key`);
      return;
    }
    if (s.needCa && m.ca === undefined) {
      this.fail(`${this.describe()}: no CA certificate to verify peers with`);
      return;
    }
    const key = JSON.stringify([m.cert, m.key, m.ca, m.crl]);
    if (key === this.#material && this.#context !== null) {
      this.#error = null;
      return;
    }
    let options: SecureContextOptions;
    let context: SecureContext;
    try {
      const ca = m.ca ?? (s.defaultCa ? [...defaultTrustCa()] : undefined);
      options = {
        ...(m.cert !== undefined ? { cert: m.cert } : {}),
        ...(m.key !== undefined ? { key: m.key } : {}),
        ...(ca !== undefined ? { ca } : {}),
        ...(m.crl !== undefined ? { crl: m.crl } : {}),
        ...(this.deps.minVersion !== undefined ? { minVersion: this.deps.minVersion } : {}),
      };
      context = tlsModule().createSecureContext(options);
    } catch (e) {
      const why = `${this.describe()}: ${(e as Error).message}`;
      if (first && s.credentialName === undefined) throw e instanceof DefaultTrustError ? e : new CredentialError(why);
      this.fail(this.#context !== null ? `${why} (keeping the previous certificate)` : why);
      return;
    }
    const wasBroken = this.#error !== null;
    this.#context = context;
    this.#options = options;
    this.#material = key;
    this.#error = null;
    if (!first) {
      this.deps.log(`${this.describe()} reloaded${wasBroken ? " (usable again)" : ""}`);
      this.onReload?.();
    }
  }

  private fail(why: string): void {
    if (why !== this.#error) this.deps.log(why);
    this.#error = why;
  }
}

function readSync(path: string, what: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new CredentialError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

async function readAsync(path: string, what: string): Promise<string> {
  try {
    return await readFileAsync(path, "utf8");
  } catch (e) {
    throw new CredentialError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}
