// Where tokens are read (Envoy's jwt_authn extractor): headers with an optional prefix found
// anywhere in the value, query parameters, cookies. Default (no location configured):
// `Authorization: Bearer <token>`, then `?access_token=`.
import type { JwtProvider } from "../../../../model/proxy-config.ts";
import type { RequestContext } from "../../../request/context.ts";

/** One place a token may be, with the issuers that accept tokens there. */
export interface TokenLocation {
  readonly kind: "header" | "param" | "cookie";
  /** Header (lower case), parameter or cookie name. */
  readonly name: string;
  /** Header prefix ("" for none). */
  readonly prefix: string;
  readonly issuers: Set<string>;
  /**
   * The last header value seen here and the token in it: clients resend the same Authorization
   * header, and comparing it is cheaper than scanning it; the token string handed out again keeps
   * its hash, so the verified-token cache lookup does not rehash ~1 KB per request.
   */
  lastValue: string;
  lastToken: string | null;
}

/** A token found in a request. */
export interface FoundToken {
  readonly token: string;
  readonly location: TokenLocation;
}

const DEFAULT_HEADER = { name: "authorization", prefix: "Bearer " };
const DEFAULT_PARAM = "access_token";

/** Every location of every provider, in provider order, merged by place. */
export function tokenLocations(providers: readonly JwtProvider[]): TokenLocation[] {
  const out: TokenLocation[] = [];
  const add = (kind: TokenLocation["kind"], name: string, prefix: string, issuer: string): void => {
    const at = out.find((l) => l.kind === kind && l.name === name && l.prefix === prefix);
    if (at !== undefined) at.issuers.add(issuer);
    else out.push({ kind, name, prefix, issuers: new Set([issuer]), lastValue: "", lastToken: null });
  };
  for (const p of providers) {
    if (p.fromHeaders.length === 0 && p.fromParams.length === 0 && p.fromCookies.length === 0) {
      add("header", DEFAULT_HEADER.name, DEFAULT_HEADER.prefix, p.issuer);
      add("param", DEFAULT_PARAM, "", p.issuer);
      continue;
    }
    for (const h of p.fromHeaders) add("header", h.name.toLowerCase(), h.prefix, p.issuer);
    for (const q of p.fromParams) add("param", q, "", p.issuer);
    for (const c of p.fromCookies) add("cookie", c, "", p.issuer);
  }
  return out;
}

/** 1 for the characters a token is made of (A-Z a-z 0-9 - _ .), by char code. */
const TOKEN_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-_.]/.test(ch)) TOKEN_CHAR[c] = 1;
}
const isTokenChar = (code: number): boolean => code < 128 && TOKEN_CHAR[code] === 1;

/** The token in one header value after `prefix` (searched anywhere); null when the prefix is absent. */
export function headerToken(value: string, prefix: string): string | null {
  // Runs on every request of a jwt_authn listener: a table per char code, no regex, one slice.
  let i = 0;
  if (prefix !== "") {
    const at = value.startsWith(prefix) ? 0 : value.indexOf(prefix);
    if (at < 0) return null;
    i = at + prefix.length;
  }
  const n = value.length;
  while (i < n && !isTokenChar(value.charCodeAt(i))) i++;
  let j = i;
  while (j < n && isTokenChar(value.charCodeAt(j))) j++;
  if (j === i) return null;
  return i === 0 && j === n ? value : value.slice(i, j);
}

function cookieValue(header: string, name: string): string | null {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v.startsWith("\"") && v.endsWith("\"") && v.length >= 2 ? v.slice(1, -1) : v;
    }
  }
  return null;
}

/** The tokens in `x`, at most one per location. */
export function findTokens(x: RequestContext, locations: readonly TokenLocation[]): FoundToken[] | null {
  let out: FoundToken[] | null = null;
  let query: URLSearchParams | null | undefined;
  for (const location of locations) {
    let token: string | null = null;
    if (location.kind === "header") {
      const v = x.header(location.name);
      if (v !== undefined && v !== "") {
        if (v === location.lastValue) token = location.lastToken;
        else {
          token = headerToken(v, location.prefix);
          location.lastValue = v;
          location.lastToken = token;
        }
      }
    } else if (location.kind === "cookie") {
      const v = x.header("cookie");
      if (v !== undefined) token = cookieValue(v, location.name);
    } else {
      if (query === undefined) {
        const q = x.path.indexOf("?");
        query = q < 0 ? null : new URLSearchParams(x.path.slice(q + 1));
      }
      token = query?.get(location.name) ?? null;
    }
    if (token !== null && token !== "") (out ??= []).push({ token, location });
  }
  return out;
}
