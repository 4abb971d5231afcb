// Where a jwtRule's verification keys come from: an inline JWKS (parsed once per config version),
// or a JWKS URL the sidecar fetches itself (Envoy's remote_jwks as Istio sets it: cached 5 min,
// fetch timeout = the rule's timeout). A fetch failure keeps the last good keys; an unknown `kid`
// refetches at once (at most every 30 s). Remote sets live across config versions, keyed by URL.
import type { JSONWebKeySet, JWSHeaderParameters } from "jose";
import type { Clock } from "../../../../core/clock.ts";
import type { ClientRequest, RequestOptions } from "node:http";
import { loadJose, type JoseModule } from "./jose-module.ts";
import { httpModule, httpsModule } from "../../../../core/builtins.ts";
import { defaultTrustContext } from "../../../tls/default-trust.ts";

type KeyLookup = ReturnType<JoseModule["createLocalJWKSet"]>;
export type VerifyKey = Awaited<ReturnType<KeyLookup>>;

/** A JWKS URL could not be fetched and no earlier keys are known (Envoy: `Jwks remote fetch is failed`). */
export class JwksFetchError extends Error {}

export interface KeySource {
  key(header: JWSHeaderParameters, clock: Clock): Promise<VerifyKey>;
  /** Bumped whenever the published keys change (tokens verified before are verified again). */
  readonly generation: number;
}

/** Inline `jwks`: throws Error for text that is not a JWKS. */
export function inlineKeys(text: string): KeySource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`jwks is not JSON: ${(e as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`jwks must be an object with a "keys" array`);
  // What jose's createLocalJWKSet checks (it runs at the first verification, once jose is loaded).
  keys.forEach((k, i) => {
    if (typeof k !== "object" || k === null || Array.isArray(k)) throw new Error(`jwks keys[${i}] must be an object`);
  });
  let lookup: KeyLookup | null = null;
  return {
    generation: 0,
    key: async (header) => {
      lookup ??= (await loadJose()).createLocalJWKSet(parsed as JSONWebKeySet);
      return await lookup(header);
    },
  };
}

/** Istio's remote_jwks cache duration. */
export const JWKS_CACHE_MS = 5 * 60_000;
/** An unknown kid refetches at most this often. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Remote sets kept per URL; beyond this the oldest is dropped (its next use refetches). */
const MAX_REMOTE = 256;

export type JwksFetch = (url: string, timeoutMs: number) => Promise<unknown>;

/** Plain fetch from the sidecar, bounded by `timeoutMs`; an OpenID discovery URL is followed to its `jwks_uri`. */
export const httpJwksFetch: JwksFetch = async (url, timeoutMs) => {
  const json = await getJson(url, timeoutMs);
  if (!url.endsWith(DISCOVERY)) return json;
  const jwksUri = (json as { jwks_uri?: unknown } | null)?.jwks_uri;
  if (typeof jwksUri !== "string") throw new Error(`${url} has no jwks_uri`);
  return await getJson(jwksUri, timeoutMs);
};

const DISCOVERY = "/.well-known/openid-configuration";

/**
 * GET `url` as JSON over node:http, or node:https verified against the default trust (the system CA
 * bundle, as Istio's remote_jwks cluster validates against `file-root:system`: default-trust.ts).
 * Not `fetch`: its TLS uses Node's default store, which the sidecar keeps empty, and it loads undici.
 * No redirects are followed (Envoy's remote_jwks follows none either).
 */
function getJson(url: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const o: RequestOptions = { headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) };
    let req: ClientRequest;
    try {
      const u = new URL(url);
      // node:https passes `secureContext` on to tls.connect (its option types leave it out).
      req = u.protocol === "https:" ? httpsModule().request(u, { ...o, secureContext: defaultTrustContext() } as RequestOptions) : httpModule().request(u, o);
    } catch (e) {
      return reject(e as Error);
    }
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (e) {
          reject(new Error(`GET ${url}: ${(e as Error).message}`));
        }
      });
    });
    req.end();
  });
}

export class RemoteKeys implements KeySource {
  private lookup: KeyLookup | null = null;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | null = null;
  /** The keys of the last good fetch (JSON), to tell a changed set from a refresh of the same one. */
  private keysText = "";
  generation = 0;
  /** Fetches that succeeded / failed (Envoy's jwks_fetch_success / jwks_fetch_failed). */
  fetchSuccess = 0;
  fetchFailed = 0;

  readonly url: string;
  readonly timeoutMs: number;
  private readonly fetcher: JwksFetch;

  constructor(url: string, timeoutMs: number, fetcher: JwksFetch) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.fetcher = fetcher;
  }

  async key(header: JWSHeaderParameters, clock: Clock): Promise<VerifyKey> {
    if (this.lookup === null || clock.now() - this.fetchedAt >= JWKS_CACHE_MS) await this.refresh(clock);
    if (this.lookup === null) throw new JwksFetchError(`no keys from ${this.url}`);
    const { errors } = await loadJose();
    try {
      return await this.lookup(header);
    } catch (e) {
      // Key rotation: a kid we do not know yet may be in a fresh copy.
      if (!(e instanceof errors.JWKSNoMatchingKey) || clock.now() - this.fetchedAt < JWKS_COOLDOWN_MS) throw e;
      await this.refresh(clock);
      return await this.lookup(header);
    }
  }

  /** One fetch at a time; a failure keeps the keys we had (and retries after the cooldown). */
  private refresh(clock: Clock): Promise<void> {
    this.inflight ??= Promise.all([this.fetcher(this.url, this.timeoutMs), loadJose()]).then(
      ([json, jose]) => {
        const keys = (json as { keys?: unknown } | null)?.keys;
        if (!Array.isArray(keys)) throw new Error(`${this.url} is not a JWKS`);
        const text = JSON.stringify(keys);
        if (text !== this.keysText) {
          if (this.keysText !== "") this.generation++;
          this.keysText = text;
        }
        this.lookup = jose.createLocalJWKSet(json as JSONWebKeySet);
        this.fetchedAt = clock.now();
        this.fetchSuccess++;
      },
    ).catch(() => {
      this.fetchFailed++;
      // Keep the last good keys; try again once the cooldown has passed.
      if (this.lookup !== null) this.fetchedAt = clock.now() - JWKS_CACHE_MS + JWKS_COOLDOWN_MS;
    }).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }
}

const remote = new Map<string, RemoteKeys>();

/** The process-wide key set of `url` (kept across config pushes, so a push does not refetch). */
export function remoteKeys(url: string, timeoutMs: number, fetcher: JwksFetch = httpJwksFetch): RemoteKeys {
  const id = `${timeoutMs} ${url}`;
  let r = remote.get(id);
  if (r === undefined || r.timeoutMs !== timeoutMs) {
    if (remote.size >= MAX_REMOTE) remote.delete(remote.keys().next().value as string);
    r = new RemoteKeys(url, timeoutMs, fetcher);
    remote.set(id, r);
  }
  return r;
}
