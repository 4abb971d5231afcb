// HTTP header names and values in matches and header operations, with Istio's rules and texts.
import type { FieldPath } from "../../model/resource.ts";
import type { Headers, HeaderOperations } from "../../model/specs/networking.ts";
import type { Validator } from "../validator.ts";
import { checkKnownFields } from "./fields.ts";
import { readObject, readStringArray, readStringMap } from "./shape.ts";

const HEADER_NAME = /^[-_A-Za-z0-9]+$/;
/** `@request.auth.claims.x` or `@request.auth.claims[x]` (JWT claim routing, gateways only). */
const JWT_CLAIM = /^@request\.auth\.claims(\.[^.[\]]+|\[[^\]]+\])+$/;

export function isJwtClaimHeader(name: string): boolean {
  return JWT_CLAIM.test(name);
}

/** A header name in a match (also allows the JWT claim form). */
export function headerMatchNameError(name: string): string | null {
  if (name === "") return "header name cannot be empty";
  if (isJwtClaimHeader(name)) return null;
  if (!HEADER_NAME.test(name)) return `header name ${name} is not a valid header name`;
  return null;
}

/** A CORS allow/expose header ("*" allowed). */
export function corsHeaderNameError(name: string): string | null {
  if (name === "") return "header name cannot be empty";
  if (name === "*") return null;
  if (!HEADER_NAME.test(name)) return `header name ${name} is not a valid header name`;
  return null;
}

function isInternal(name: string): boolean {
  return name.startsWith(":") || name.toLowerCase() === "host";
}

export function isAuthorityHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n === ":authority" || n === "host";
}

/** Request add/set: pseudo-headers other than :authority are refused. */
export function headerSetNameError(name: string): string | null {
  if (name === "") return "header name cannot be empty";
  if (isInternal(name) && !isAuthorityHeader(name)) return `invalid header ${JSON.stringify(name)}: header cannot have ":" prefix`;
  return null;
}

/** Request remove, and every response operation: Host and pseudo-headers are refused. */
export function headerEditNameError(name: string): string | null {
  if (name === "") return "header name cannot be empty";
  if (name.toLowerCase() === "host") return `invalid header ${JSON.stringify(name)}: cannot set Host header`;
  if (isInternal(name)) return `invalid header ${JSON.stringify(name)}: header cannot have ":" prefix`;
  return null;
}

/**
 * Envoy header value syntax: `%` must be escaped as `%%` or open a `%VAR%` / `%VAR(args)%`
 * expression (a port of Envoy's header_parser state machine, as Istio does).
 */
export function headerValueError(value: string): string | null {
  if (/[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)) return `header value configuration ${value} is invalid`;
  const bad = (m: string): string => `header value configuration: invalid header configuration. ${m}`;
  type State = "lit" | "var" | "arr" | "str?" | "str" | "delim" | "argsEnd" | "varEnd";
  let state: State = "lit";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const hasNext = i + 1 < value.length;
    switch (state) {
      case "lit":
        if (ch !== "%") break;
        if (!hasNext) return bad("Un-escaped %");
        if (value[i + 1] === "%") i++;
        else state = "var";
        break;
      case "var":
        if (ch === "%") state = "lit";
        else if (ch === "(") state = "arr";
        break;
      case "arr":
        if (ch === "[") state = "str?";
        else if (ch !== " ") state = "str";
        break;
      case "delim":
        if (ch === ",") state = "str?";
        else if (ch === "]") state = "argsEnd";
        else if (ch !== " ") return bad("Expecting ',', ']', or whitespace");
        break;
      case "str?":
        if (ch === '"') state = "str";
        else if (ch !== " ") return bad("Expecting '\"'");
        break;
      case "str":
        if (ch === "\\") {
          if (!hasNext) return bad("Un-terminated backslash in JSON string");
          i++;
        } else if (ch === ")") state = "varEnd";
        else if (ch === '"') state = "delim";
        break;
      case "argsEnd":
        if (ch === ")") state = "varEnd";
        else if (ch !== " ") return bad("Expecting ')' or whitespace");
        break;
      case "varEnd":
        if (ch === "%") state = "lit";
        else if (ch !== " ") return bad("Expecting '%' or whitespace after");
        break;
    }
  }
  // Envoy calls this an "Un-terminated variable expression"; the usual cause is a lone `%`, so say both.
  if (state !== "lit") return bad(`Un-escaped % (un-terminated variable expression '${value}'; write %% for a literal %)`);
  return null;
}

function checkOps(v: Validator, path: FieldPath, x: unknown, isRequest: boolean): HeaderOperations | undefined {
  const obj = readObject(v, path, x);
  if (!obj) return undefined;
  checkKnownFields(v, path, obj, ["set", "add", "remove"]);
  const out: HeaderOperations = {};
  const nameError = isRequest ? headerSetNameError : headerEditNameError;
  for (const op of ["set", "add"] as const) {
    const m = readStringMap(v, [...path, op], obj[op]);
    if (!m) continue;
    out[op] = m;
    for (const [name, val] of Object.entries(m)) {
      const err = nameError(name) ?? headerValueError(val);
      if (err) v.error([...path, op, name], err);
    }
  }
  const rm = readStringArray(v, [...path, "remove"], obj.remove);
  if (rm) {
    out.remove = rm;
    rm.forEach((name, i) => {
      const err = headerEditNameError(name);
      if (err) v.error([...path, "remove", i], err);
    });
  }
  return out;
}

/** `headers: {request: {set, add, remove}, response: {...}}` */
export function checkHeaderOperations(v: Validator, path: FieldPath, x: unknown): Headers | undefined {
  const obj = readObject(v, path, x);
  if (!obj) return undefined;
  checkKnownFields(v, path, obj, ["request", "response"]);
  const out: Headers = {};
  const req = checkOps(v, [...path, "request"], obj.request, true);
  const res = checkOps(v, [...path, "response"], obj.response, false);
  if (req) out.request = req;
  if (res) out.response = res;
  return out;
}
