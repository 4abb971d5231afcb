// ServingCertificate: the control plane's own TLS certificate for its API and push stream (as
// istiod serves xDS on 15012 with a certificate from its own CA). The key is made here, in
// memory; the certificate names every address a client may dial (DNS and IP SANs), is signed by
// the mesh CA, and is replaced at half its lifetime — each new one goes to `onRenewed` (the
// server's setSecureContext), so open connections keep theirs and new ones get the new one.
import { networkInterfaces, hostname } from "node:os";
import { isIP } from "node:net";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import { pkcs8Pem } from "../../core/x509.ts";
import type { SigningCA } from "./signing-ca.ts";

/** Istio's default workload lifetime; istiod's own DNS certificate is renewed the same way. */
export const SERVING_TTL_SECONDS = 24 * 3600;
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ServingMaterial {
  /** Leaf first, then the chain up to the root (PEM). */
  cert: string;
  key: string;
  notAfter: Date;
}

/**
 * The names clients dial: the listen address (on a wildcard listener every interface address and
 * the host name), loopback, `localhost`, and the extra names it was told it is reached by.
 */
export function servingNames(listenHost: string, allowedHosts: readonly string[] = []): { dns: string[]; ips: string[] } {
  const dns = new Set<string>(["localhost"]);
  const ips = new Set<string>(["127.0.0.1", "::1"]);
  const add = (h: string): void => {
    const bare = h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
    if (isIP(bare) !== 0) ips.add(bare);
    else if (bare !== "") dns.add(bare.toLowerCase());
  };
  if (listenHost === "0.0.0.0" || listenHost === "::") {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) add(a.address.replace(/%.*$/, ""));
    add(hostname());
  } else {
    add(listenHost);
  }
  for (const h of allowedHosts) add(h);
  return { dns: [...dns], ips: [...ips] };
}

export class ServingCertificate {
  current: ServingMaterial | null = null;
  readonly #ca: () => Promise<SigningCA>;
  readonly #names: { dns: string[]; ips: string[] };
  readonly #clock: Clock;
  readonly #onRenewed: (m: ServingMaterial) => void;
  readonly #log: (line: string) => void;
  #timer: TimerHandle | null = null;
  #closed = false;

  constructor(o: { ca: () => Promise<SigningCA>; names: { dns: string[]; ips: string[] }; clock: Clock; onRenewed: (m: ServingMaterial) => void; log: (line: string) => void }) {
    this.#ca = o.ca;
    this.#names = o.names;
    this.#clock = o.clock;
    this.#onRenewed = o.onRenewed;
    this.#log = o.log;
  }

  /** Issue the first certificate (awaited at start: no TLS server without one). */
  async start(): Promise<ServingMaterial> {
    const m = await this.#issue();
    this.#schedule(m);
    return m;
  }

  /** Replace the certificate now (the CA signs under a new root); resolves once it is in place. */
  async renewNow(): Promise<void> {
    this.#timer?.cancel();
    const m = await this.#issue();
    if (this.#closed) return;
    this.#onRenewed(m);
    this.#schedule(m);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
  }

  async #issue(): Promise<ServingMaterial> {
    const keys = (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
    const { certChain, notAfter } = await (await this.#ca()).signServing(keys.publicKey, this.#names, SERVING_TTL_SECONDS);
    const m = { cert: certChain.join(""), key: pkcs8Pem(new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey))), notAfter };
    this.current = m;
    return m;
  }

  /** Renew at half the remaining lifetime; a failure is retried in a minute while the old one is valid. */
  #schedule(m: ServingMaterial): void {
    if (this.#closed) return;
    const wait = Math.max(1000, (m.notAfter.getTime() - this.#clock.wallNow()) / 2);
    this.#timer = this.#clock.setTimeout(() => void this.#renew(), Math.min(wait, MAX_TIMER_MS));
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    if (this.#closed) return;
    try {
      const m = await this.#issue();
      if (this.#closed) return;
      this.#onRenewed(m);
      this.#schedule(m);
    } catch (e) {
      this.#log(`control plane serving certificate renewal failed (${(e as Error).message}); retrying in 60 s`);
      this.#timer = this.#clock.setTimeout(() => void this.#renew(), 60_000);
      this.#timer.unref();
    }
  }
}
