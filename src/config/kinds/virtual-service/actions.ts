// What an HTTP route does besides routing: redirect, rewrite, direct response, fault injection,
// retries, CORS. Texts follow Istio's validator.
import { DIRECT_RESPONSE_MAX_BYTES, DIRECT_RESPONSE_WARN_BYTES } from "../../defaults.ts";
import { checkDuration, readDuration, NANOS_PER_MS } from "../../checks/duration.ts";
import { checkKnownFields } from "../../checks/fields.ts";
import { corsHeaderNameError } from "../../checks/headers.ts";
import { checkPercent } from "../../checks/percent.ts";
import { portError } from "../../checks/port.ts";
import { regexFieldError } from "../../checks/regex.ts";
import { readArray, readBool, readEnum, readInt, readObject, readString, readStringArray, UINT32 } from "../../checks/shape.ts";
import { checkStringMatch } from "../../checks/string-match.ts";
import type { FieldPath, JsonObject } from "../../../model/resource.ts";
import type { StringMatch } from "../../../model/specs/networking.ts";
import type { Validator } from "../../validator.ts";

/** Istio checks `< 200 || > 600`, so 600 itself passes. */
export function httpStatusError(status: number): string | null {
  return status < 200 || status > 600 ? `HTTP status ${status} is not in range 200-599` : null;
}

export function checkRedirect(v: Validator, path: FieldPath, obj: JsonObject, uris: (StringMatch | undefined)[]): void {
  checkKnownFields(v, path, obj, ["uri", "authority", "port", "derivePort", "scheme", "redirectCode", "prefixRewrite"]);
  const uri = readString(v, [...path, "uri"], obj.uri) ?? "";
  const authority = readString(v, [...path, "authority"], obj.authority) ?? "";
  const scheme = readString(v, [...path, "scheme"], obj.scheme) ?? "";
  const prefixRewrite = readString(v, [...path, "prefixRewrite"], obj.prefixRewrite);
  const hasPort = obj.port != null || obj.derivePort != null;
  if (obj.port != null && obj.derivePort != null) v.error(path, "only one of port or derivePort may be set in redirect");
  readEnum(v, [...path, "derivePort"], obj.derivePort, ["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"]);
  if (uri === "" && authority === "" && !hasPort && scheme === "" && prefixRewrite === undefined) {
    v.error(path, "redirect must specify URI, authority, scheme, or port");
    return;
  }
  const code = readInt(v, [...path, "redirectCode"], obj.redirectCode, UINT32);
  if (code !== undefined && code !== 0 && (code < 300 || code > 399)) v.error([...path, "redirectCode"], `${code} is not a valid redirect code, must be 3xx`);
  if (scheme !== "" && scheme !== "http" && scheme !== "https") v.error([...path, "scheme"], 'invalid redirect scheme, must be "http" or "https"');
  const port = readInt(v, [...path, "port"], obj.port, UINT32);
  if (port !== undefined && port > 0) {
    const err = portError(port);
    if (err) v.error([...path, "port"], err);
  }
  if (prefixRewrite !== undefined) {
    if (uri !== "") v.error([...path, "prefixRewrite"], "only one of uri or prefix_rewrite may be set in a redirect");
    if (uris.some((u) => u !== undefined && (u.exact !== undefined || u.regex !== undefined))) {
      v.error([...path, "prefixRewrite"], "redirect prefix_rewrite requires all URI matches to use prefix match type");
    }
  }
}

export function checkRewrite(v: Validator, path: FieldPath, obj: JsonObject): void {
  checkKnownFields(v, path, obj, ["uri", "authority", "uriRegexRewrite"]);
  const uri = readString(v, [...path, "uri"], obj.uri) ?? "";
  const authority = readString(v, [...path, "authority"], obj.authority) ?? "";
  const rr = readObject(v, [...path, "uriRegexRewrite"], obj.uriRegexRewrite);
  if (uri !== "" && rr) {
    v.error(path, "rewrite may only contain one of URI or UriRegexRewrite");
    return;
  }
  if (uri === "" && !rr && authority === "") {
    v.error(path, "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified");
    return;
  }
  if (rr) {
    const at = [...path, "uriRegexRewrite"];
    checkKnownFields(v, at, rr, ["match", "rewrite"]);
    const match = readString(v, [...at, "match"], rr.match) ?? "";
    const rewrite = readString(v, [...at, "rewrite"], rr.rewrite) ?? "";
    if (match === "" || rewrite === "") v.error(at, "UriRegexRewrite has errors: UriRegexRewrite requires both Rewrite and Match fields to be specified");
    else {
      const err = regexFieldError(match, "HTTPRewrite.UriRegexRewrite.Match");
      if (err) v.error([...at, "match"], `UriRegexRewrite has errors: ${err}`);
    }
  }
}

export function checkDirectResponse(v: Validator, path: FieldPath, obj: JsonObject): void {
  checkKnownFields(v, path, obj, ["status", "body"]);
  const status = readInt(v, [...path, "status"], obj.status ?? 0, UINT32);
  if (status !== undefined) {
    const err = httpStatusError(status);
    if (err) v.error([...path, "status"], err);
  }
  const body = readObject(v, [...path, "body"], obj.body);
  if (!body) return;
  checkKnownFields(v, [...path, "body"], body, ["string", "bytes"]);
  if (body.string != null && body.bytes != null) v.error([...path, "body"], "only one of string or bytes may be set in a direct response body");
  const s = readString(v, [...path, "body", "string"], body.string);
  const b = readString(v, [...path, "body", "bytes"], body.bytes);
  let size = 0;
  if (s !== undefined) size = new TextEncoder().encode(s).length;
  if (b !== undefined) {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b)) v.error([...path, "body", "bytes"], "bytes must be base64");
    size = Math.floor((b.replace(/=+$/, "").length * 3) / 4);
  }
  if (size > DIRECT_RESPONSE_MAX_BYTES) v.error([...path, "body"], "large direct_responses may impact control plane performance, must be less than 1MB");
  else if (size > DIRECT_RESPONSE_WARN_BYTES) v.warn([...path, "body"], "large direct_responses may impact control plane performance");
}

export const GRPC_STATUSES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
  "DATA_LOSS", "UNAUTHENTICATED",
] as const;

export function checkFault(v: Validator, path: FieldPath, obj: JsonObject): void {
  checkKnownFields(v, path, obj, ["delay", "abort"]);
  const delay = readObject(v, [...path, "delay"], obj.delay);
  const abort = readObject(v, [...path, "abort"], obj.abort);
  if (!delay && !abort) v.error(path, "HTTP fault injection must have an abort and/or a delay");
  if (abort) {
    const at = [...path, "abort"];
    checkKnownFields(v, at, abort, ["httpStatus", "grpcStatus", "http2Error", "percentage"]);
    checkPercent(v, [...at, "percentage"], abort.percentage);
    const kinds = (["httpStatus", "grpcStatus", "http2Error"] as const).filter((k) => abort[k] != null);
    if (kinds.length > 1) v.error(at, `only one of httpStatus, grpcStatus or http2Error may be set (found ${kinds.join(" and ")})`);
    if (kinds.length === 0) v.warn(at, "abort configured, but error type not set");
    if (abort.grpcStatus != null) {
      const g = readString(v, [...at, "grpcStatus"], abort.grpcStatus);
      if (g !== undefined && !(GRPC_STATUSES as readonly string[]).includes(g)) {
        v.error([...at, "grpcStatus"], `gRPC status ${JSON.stringify(g)} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`);
      }
    }
    if (abort.http2Error != null) v.error([...at, "http2Error"], "HTTP/2 abort fault injection not supported yet");
    if (abort.httpStatus != null) {
      const s = readInt(v, [...at, "httpStatus"], abort.httpStatus);
      const err = s === undefined ? null : httpStatusError(s);
      if (err) v.error([...at, "httpStatus"], err);
    }
  }
  if (delay) {
    const at = [...path, "delay"];
    checkKnownFields(v, at, delay, ["fixedDelay", "exponentialDelay", "percentage", "percent"]);
    checkPercent(v, [...at, "percentage"], delay.percentage);
    if (delay.percent != null) {
      v.deprecated([...at, "percent"], 'using deprecated setting "percent", use "percentage" instead');
      const p = readInt(v, [...at, "percent"], delay.percent);
      if (p !== undefined && (p < 0 || p > 100)) v.error([...at, "percent"], `percentage ${p} is not in range 0..100`);
    }
    if (delay.fixedDelay != null && delay.exponentialDelay != null) v.error(at, "only one of fixedDelay or exponentialDelay may be set");
    if (delay.fixedDelay != null) checkDuration(v, [...at, "fixedDelay"], delay.fixedDelay);
    else if (delay.exponentialDelay != null) {
      checkDuration(v, [...at, "exponentialDelay"], delay.exponentialDelay);
      v.error([...at, "exponentialDelay"], "exponentialDelay not supported yet");
    } else v.warn(at, "delay configured, but fixedDelay not set");
  }
}

export const RETRY_ON_POLICIES: ReadonlySet<string> = new Set([
  "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx", "refused-stream",
  "retriable-status-codes", "retriable-headers", "envoy-ratelimited", "http3-post-connect-failure",
  "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
]);

/** HTTP status codes with a standard text (Go's http.StatusText), the only numbers retryOn accepts. */
const KNOWN_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424,
  425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** Why a retryOn token is invalid, or null. Like Istio, tokens are not trimmed ("5xx, reset" has " reset"). */
export function retryOnTokenError(token: string): string | null {
  if (RETRY_ON_POLICIES.has(token)) return null;
  if (/^[+-]?\d+$/.test(token) && KNOWN_STATUS.has(Number(token))) return null;
  return `${JSON.stringify(token)} is not a valid retryOn policy`;
}

export function checkRetries(v: Validator, path: FieldPath, obj: JsonObject): void {
  checkKnownFields(v, path, obj, ["attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff"]);
  const attempts = readInt(v, [...path, "attempts"], obj.attempts) ?? 0;
  if (attempts < 0) v.error([...path, "attempts"], "attempts cannot be negative");
  const retryOn = readString(v, [...path, "retryOn"], obj.retryOn) ?? "";
  readBool(v, [...path, "retryRemoteLocalities"], obj.retryRemoteLocalities);
  readBool(v, [...path, "retryIgnorePreviousHosts"], obj.retryIgnorePreviousHosts);
  if (attempts === 0 && (obj.perTryTimeout != null || retryOn !== "" || obj.retryRemoteLocalities != null)) {
    v.error(path, "http retry policy configured when attempts are set to 0 (disabled)");
  }
  if (obj.perTryTimeout != null) checkDuration(v, [...path, "perTryTimeout"], obj.perTryTimeout);
  if (obj.backoff != null) checkDuration(v, [...path, "backoff"], obj.backoff);
  if (retryOn !== "") {
    for (const token of retryOn.split(",")) {
      const err = retryOnTokenError(token);
      if (err) v.error([...path, "retryOn"], err);
    }
  }
}

export const CORS_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"]);

export function checkCors(v: Validator, path: FieldPath, obj: JsonObject): void {
  checkKnownFields(v, path, obj, ["allowOrigins", "allowOrigin", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials", "unmatchedPreflights"]);
  const origins = readArray(v, [...path, "allowOrigins"], obj.allowOrigins);
  origins?.forEach((o, i) => {
    const at = [...path, "allowOrigins", i];
    const sm = checkStringMatch(v, at, o, { where: "corsPolicy.allowOrigins", allowEmptyPrefix: true });
    if (sm && (sm.exact ?? sm.prefix ?? sm.regex ?? "") === "") v.error(at, "'' is not a valid match type for CORS allow origins");
  });
  if (obj.allowOrigin != null) {
    v.deprecated([...path, "allowOrigin"], 'using deprecated setting "allowOrigin", use "allowOrigins" instead');
    readStringArray(v, [...path, "allowOrigin"], obj.allowOrigin);
  }
  readStringArray(v, [...path, "allowMethods"], obj.allowMethods)?.forEach((m, i) => {
    if (!CORS_METHODS.has(m)) v.error([...path, "allowMethods", i], `${JSON.stringify(m)} is not a supported HTTP method`);
  });
  for (const f of ["allowHeaders", "exposeHeaders"] as const) {
    readStringArray(v, [...path, f], obj[f])?.forEach((h, i) => {
      const err = corsHeaderNameError(h);
      if (err) v.error([...path, f, i], err);
    });
  }
  if (obj.maxAge != null) {
    const ns = readDuration(v, [...path, "maxAge"], obj.maxAge);
    if (ns !== undefined) {
      checkDuration(v, [...path, "maxAge"], obj.maxAge);
      if (ns % (1000n * NANOS_PER_MS) !== 0n) v.error([...path, "maxAge"], "max_age duration is accurate only to seconds precision");
    }
  }
  readBool(v, [...path, "allowCredentials"], obj.allowCredentials);
  readEnum(v, [...path, "unmatchedPreflights"], obj.unmatchedPreflights, ["UNSPECIFIED", "FORWARD", "IGNORE"]);
}
