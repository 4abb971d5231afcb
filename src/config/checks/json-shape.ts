// JSON shape checks with the Kubernetes API server's wording, for the kinds whose Istio test data
// asserts those texts (security and telemetry CRDs; shape.ts words things its own way for the
// networking kinds). Each reader reads a field as the type the schema expects and reports an error
// ("must be of type string", `Unsupported value: "X"`) at its path when it is not. Every reader
// returns undefined for an absent or wrongly typed value, so a validator goes on checking the rest.
import { isObject, type FieldPath, type Json, type JsonObject } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { checkKnownFields } from "./fields.ts";

/** Name of a JSON value's type as Kubernetes error messages spell it. */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** An object field; null and absent both mean "not set". */
export function readObject(v: Validator, path: FieldPath, value: unknown): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    v.error(path, `must be of type object, not ${jsonType(value)}`);
    return undefined;
  }
  return value;
}

/** A list item or map value that must be an object: null is an error here, as in Kubernetes. */
export function readObjectItem(v: Validator, path: FieldPath, value: unknown): JsonObject | undefined {
  if (!isObject(value)) {
    v.error(path, `must be of type object, not ${jsonType(value)}`);
    return undefined;
  }
  return value;
}

export function readArray(v: Validator, path: FieldPath, value: unknown): Json[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    v.error(path, `must be of type array, not ${jsonType(value)}`);
    return undefined;
  }
  return value;
}

export interface StringRules {
  /** Reject "" with Kubernetes' "should be at least 1 chars long". */
  nonEmpty?: boolean;
  maxLength?: number;
  /** Regular expression the whole value must match, with the pattern shown in the error. */
  pattern?: RegExp;
}

export function readString(v: Validator, path: FieldPath, value: unknown, rules: StringRules = {}): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    v.error(path, `must be of type string, not ${jsonType(value)}`);
    return undefined;
  }
  if (rules.nonEmpty && value === "") {
    v.error(path, "should be at least 1 chars long");
    return undefined;
  }
  if (rules.maxLength !== undefined && value.length > rules.maxLength) {
    v.error(path, `may not be longer than ${rules.maxLength} characters`);
    return undefined;
  }
  if (rules.pattern && !rules.pattern.test(value)) {
    v.error(path, `should match '${rules.pattern.source}' (got ${JSON.stringify(value)})`);
    return undefined;
  }
  return value;
}

/** A list of strings; wrongly typed items are reported and left out of the result. */
export function readStringList(v: Validator, path: FieldPath, value: unknown, rules: StringRules & { maxItems?: number } = {}): string[] | undefined {
  const list = readArray(v, path, value);
  if (!list) return undefined;
  if (rules.maxItems !== undefined && list.length > rules.maxItems) v.error(path, `must have at most ${rules.maxItems} items`);
  const out: string[] = [];
  list.forEach((item, i) => {
    if (item === null) {
      v.error([...path, i], "must be of type string, not null");
      return;
    }
    const s = readString(v, [...path, i], item, rules);
    if (s !== undefined) out.push(s);
  });
  return out;
}

export function readBool(v: Validator, path: FieldPath, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") {
    v.error(path, `must be of type boolean, not ${jsonType(value)}${typeof value === "string" ? " (write true or false without quotes)" : ""}`);
    return undefined;
  }
  return value;
}

export function readNumber(v: Validator, path: FieldPath, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    v.error(path, `must be of type number, not ${jsonType(value)}`);
    return undefined;
  }
  return value;
}

export interface IntRules {
  min?: number;
  max?: number;
}

export function readInt(v: Validator, path: FieldPath, value: unknown, rules: IntRules = {}): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    v.error(path, `must be of type integer, not ${jsonType(value)}${typeof value === "string" ? ` (${JSON.stringify(value)})` : ""}`);
    return undefined;
  }
  if (rules.min !== undefined && value < rules.min) {
    v.error(path, `must be greater than or equal to ${rules.min} (got ${value})`);
    return undefined;
  }
  if (rules.max !== undefined && value > rules.max) {
    v.error(path, `must be less than or equal to ${rules.max} (got ${value})`);
    return undefined;
  }
  return value;
}

/** A string enum: `Unsupported value: "BLAH": supported values: "A", "B"` (Kubernetes' wording). */
export function readEnum<T extends string>(v: Validator, path: FieldPath, value: unknown, allowed: readonly T[]): T | undefined {
  const s = readString(v, path, value);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) {
    v.error(path, `Unsupported value: ${JSON.stringify(s)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
    return undefined;
  }
  return s as T;
}

/** A map whose values must all be strings (labels, selectors). */
export function readStringMap(v: Validator, path: FieldPath, value: unknown): Record<string, string> | undefined {
  const obj = readObject(v, path, value);
  if (!obj) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj)) {
    if (typeof val === "string") out[k] = val;
    else v.error([...path, k], `must be of type string, not ${jsonType(val)} (quote ${JSON.stringify(val)})`);
  }
  return out;
}

/** A field that must be present: "Required value", as Kubernetes says. Returns whether it is. */
export function required(v: Validator, path: FieldPath, value: unknown): boolean {
  if (value === undefined || value === null) {
    v.error(path, "Required value");
    return false;
  }
  return true;
}

/**
 * Warn about fields the schema does not have (Istio rejects them; Amime warns, see fields.ts).
 * Same texts as the networking kinds.
 */
export function warnUnknownFields(v: Validator, path: FieldPath, obj: JsonObject, known: readonly string[]): void {
  checkKnownFields(v, path, obj, known);
}
