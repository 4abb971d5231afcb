// Verifying one token as Envoy's jwt_authn does, in its order: parse → issuer configured → time
// (exp / nbf, 60 s skew) → audience → signature (jose, with the provider's keys). Every failure is
// Envoy's status text (google/jwt_verify_lib status.cc).
import type { JWTPayload } from "jose";
import type { Clock } from "../../../../core/clock.ts";
import type { JwtProvider } from "../../../../model/proxy-config.ts";
import { JwksFetchError, type KeySource } from "./jwks.ts";
import type { JoseModule } from "./jose-module.ts";
import { loadJose } from "./jose-module.ts";

export const CLOCK_SKEW_S = 60;

/** Envoy's texts (the local reply body). */
export const JwtStatus = {
  missing: "Jwt is missing",
  badFormat: "Jwt is not in the form of Header.Payload.Signature",
  unknownIssuer: "Jwt issuer is not configured",
  expired: "Jwt is expired",
  notYetValid: "Jwt not yet valid",
  audience: "Audiences in Jwt are not allowed",
  verification: "Jwt verification fails",
  noKey: "Jwks doesn't have key to match kid or alg from Jwt",
  fetch: "Jwks remote fetch is failed",
} as const;

/** A verified token: what authorization and the output headers use. */
export interface VerifiedJwt {
  readonly issuer: string;
  /** `<iss>/<sub>` (Istio's request principal). */
  readonly principal: string;
  readonly payload: JWTPayload;
  /** The token's payload segment (base64url, what outputPayloadToHeader forwards). */
  readonly payloadSegment: string;
  /** Expiry in wall ms (Infinity without `exp`). */
  readonly expiresAtMs: number;
  readonly notBeforeMs: number;
}

export interface CompiledProvider {
  readonly provider: JwtProvider;
  readonly keys: KeySource;
}

/** A token that decodes: its issuer and payload (no signature checked yet). */
export interface Decoded {
  readonly payload: JWTPayload;
  readonly payloadSegment: string;
}

/** Decode without verifying (with jose, loaded: the filter waits for loadJose()); a status text when it is not a JWT. */
export function decode(token: string, jose: JoseModule): Decoded | string {
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (first < 0 || second < 0 || token.indexOf(".", second + 1) >= 0) return JwtStatus.badFormat;
  try {
    jose.decodeProtectedHeader(token);
    return { payload: jose.decodeJwt(token), payloadSegment: token.slice(first + 1, second) };
  } catch {
    return JwtStatus.badFormat;
  }
}

/** The claim checks before the signature: a status text, or null when they pass. */
export function checkClaims(d: Decoded, provider: JwtProvider, wallNowMs: number): string | null {
  const now = Math.floor(wallNowMs / 1000);
  const { exp, nbf, aud } = d.payload;
  if (typeof exp === "number" && now > exp + CLOCK_SKEW_S) return JwtStatus.expired;
  if (typeof nbf === "number" && now + CLOCK_SKEW_S < nbf) return JwtStatus.notYetValid;
  if (provider.audiences.length > 0) {
    const list = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
    if (!list.some((a) => provider.audiences.includes(a))) return JwtStatus.audience;
  }
  return null;
}

/** The signature check; resolves to the verified token or a status text. */
export async function verifySignature(token: string, d: Decoded, p: CompiledProvider, clock: Clock): Promise<VerifiedJwt | string> {
  const { compactVerify, errors } = await loadJose();
  try {
    await compactVerify(token, (header) => p.keys.key(header, clock));
  } catch (e) {
    if (e instanceof JwksFetchError) return JwtStatus.fetch;
    if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) return JwtStatus.noKey;
    return JwtStatus.verification;
  }
  const { exp, nbf, sub } = d.payload;
  return {
    issuer: p.provider.issuer,
    principal: `${p.provider.issuer}/${typeof sub === "string" ? sub : ""}`,
    payload: d.payload,
    payloadSegment: d.payloadSegment,
    expiresAtMs: typeof exp === "number" ? exp * 1000 : Number.POSITIVE_INFINITY,
    notBeforeMs: typeof nbf === "number" ? nbf * 1000 : Number.NEGATIVE_INFINITY,
  };
}

/** The 401 (403 for an audience) Envoy answers with for `status`. */
export function statusCode(status: string): number {
  return status === JwtStatus.audience ? 403 : 401;
}
