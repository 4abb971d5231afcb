// CredentialIssuer: mints and checks the control plane's credentials (token.ts). The admin token
// is written to `<state dir>/admin-token` (0600), where the CLI finds it; proxy tokens are minted
// per sidecar start by the runtime. A new proxy token for a node supersedes the node's older
// ones while this process runs (a restarted sidecar's predecessor cannot come back as it).
import { userInfo } from "node:os";
import { join } from "node:path";
import { loadOrCreateSecret } from "./secret-file.ts";
import { TokenSigner, type AdminPrincipal, type Principal, type ProxyPrincipal } from "./token.ts";

export const TOKEN_KEY_FILE = "token-key";
export const ADMIN_TOKEN_FILE = "admin-token";

export class CredentialIssuer {
  readonly adminToken: string;
  /** Where the admin token was written; null for an in-memory issuer. */
  readonly adminTokenFile: string | null;
  readonly #signer: TokenSigner;
  readonly #now: () => number;
  readonly #latest = new Map<string, string>();

  private constructor(signer: TokenSigner, adminToken: string, adminTokenFile: string | null, now: () => number) {
    this.#signer = signer;
    this.adminToken = adminToken;
    this.adminTokenFile = adminTokenFile;
    this.#now = now;
  }

  /** Keys and the admin token kept in memory only (tests, embedded use). */
  static ephemeral(now: () => number = Date.now): CredentialIssuer {
    const signer = new TokenSigner(TokenSigner.generateKey());
    return new CredentialIssuer(signer, signer.sign(localAdmin(), now()).token, null, now);
  }

  /** Key and admin token from the state dir, created there (0600) on first start. */
  static async fromStateDir(dir: string, now: () => number = Date.now): Promise<CredentialIssuer> {
    const key = await loadOrCreateSecret(join(dir, TOKEN_KEY_FILE), () => TokenSigner.generateKey());
    const signer = new TokenSigner(key);
    const file = join(dir, ADMIN_TOKEN_FILE);
    const token = (await loadOrCreateSecret(file, () => `${signer.sign(localAdmin(), now()).token}\n`)).toString("utf8").trim();
    // An admin token from an older key (the key file was replaced) would lock the CLI out.
    if (signer.verify(token)?.principal.kind !== "admin") throw new Error(`${file} does not hold an admin token signed by ${join(dir, TOKEN_KEY_FILE)}; remove ${file} to make a new one`);
    return new CredentialIssuer(signer, token, file, now);
  }

  /** A credential for one sidecar or gateway process: it may subscribe and ACK only as `p.node`. */
  mintProxyToken(p: Omit<ProxyPrincipal, "kind">): string {
    const { token, jti } = this.#signer.sign({ kind: "proxy", node: p.node, namespace: p.namespace, serviceAccount: p.serviceAccount }, this.#now());
    this.#latest.set(p.node, jti);
    return token;
  }

  /** An admin credential for a named holder (e.g. a runtime running apart). */
  mintAdminToken(name: string): string {
    return this.#signer.sign({ kind: "admin", name }, this.#now()).token;
  }

  /** The principal of a valid, current token; null otherwise. */
  verify(token: string): Principal | null {
    const v = this.#signer.verify(token);
    if (v === null) return null;
    if (v.principal.kind === "proxy") {
      const latest = this.#latest.get(v.principal.node);
      if (latest !== undefined && latest !== v.jti) return null;
      return { ...v.principal, jti: v.jti };
    }
    return v.principal;
  }
}

function localAdmin(): AdminPrincipal {
  let name = "admin";
  try {
    name = userInfo().username || name;
  } catch {
    // no passwd entry (some containers): keep "admin"
  }
  return { kind: "admin", name };
}
