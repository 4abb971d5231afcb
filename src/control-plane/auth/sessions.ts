// DashboardSessions: how a browser signs in to the control plane's dashboard without ever holding
// the admin token in script-readable storage. `amime dashboard` (or `amime up`) asks for a login
// code: random, single use, short-lived (default 60 s). Opening /dashboard/login?code=… redeems it
// for a session id the browser keeps as an HttpOnly, SameSite=Strict cookie; the login form also
// takes the admin token itself. Sessions live in memory (a restarted control plane signs everyone
// out) and expire after sessionTtlMs. A session may read the API and use the dashboard's own
// endpoints, never change config (gate.ts).
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Principal } from "./token.ts";

export const SESSION_COOKIE = "amime_session";

export interface SessionOptions {
  /** Wall-clock milliseconds. */
  now: () => number;
  loginTtlMs?: number;
  sessionTtlMs?: number;
}

interface Entry {
  principal: Principal;
  expiresAt: number;
}

export class DashboardSessions {
  readonly loginTtlMs: number;
  readonly sessionTtlMs: number;
  readonly #now: () => number;
  readonly #codes = new Map<string, Entry>();
  readonly #sessions = new Map<string, Entry>();

  constructor(o: SessionOptions) {
    this.#now = o.now;
    this.loginTtlMs = o.loginTtlMs ?? 60_000;
    this.sessionTtlMs = o.sessionTtlMs ?? 8 * 3_600_000;
  }

  /** A single-use login code for `principal`, valid for `ttlMs` (default loginTtlMs). */
  mintLoginCode(principal: Principal, ttlMs = this.loginTtlMs): { code: string; expiresAt: number } {
    this.#sweep();
    const code = randomBytes(24).toString("base64url");
    const expiresAt = this.#now() + ttlMs;
    this.#codes.set(code, { principal, expiresAt });
    return { code, expiresAt };
  }

  /** Exchange a login code for a session id; null when unknown, used or expired. */
  redeem(code: string): string | null {
    const e = lookup(this.#codes, code);
    if (e === undefined) return null;
    this.#codes.delete(e.key);
    if (e.entry.expiresAt <= this.#now()) return null;
    return this.open(e.entry.principal);
  }

  /** A new session for a principal already authenticated (the admin token in the login form). */
  open(principal: Principal): string {
    this.#sweep();
    const id = randomBytes(32).toString("base64url");
    this.#sessions.set(id, { principal, expiresAt: this.#now() + this.sessionTtlMs });
    return id;
  }

  verify(id: string): Principal | null {
    const e = lookup(this.#sessions, id);
    if (e === undefined) return null;
    if (e.entry.expiresAt <= this.#now()) {
      this.#sessions.delete(e.key);
      return null;
    }
    return e.entry.principal;
  }

  close(id: string): void {
    const e = lookup(this.#sessions, id);
    if (e !== undefined) this.#sessions.delete(e.key);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #sweep(): void {
    const now = this.#now();
    for (const m of [this.#codes, this.#sessions]) for (const [k, e] of m) if (e.expiresAt <= now) m.delete(k);
  }
}

/** Constant-time comparison against every key (there are few), so timing tells nothing about a guess. */
function lookup(m: Map<string, Entry>, given: string): { key: string; entry: Entry } | undefined {
  const g = Buffer.from(given);
  let found: { key: string; entry: Entry } | undefined;
  for (const [key, entry] of m) {
    const k = Buffer.from(key);
    if (k.length === g.length && timingSafeEqual(k, g)) found = { key, entry };
  }
  return found;
}

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
