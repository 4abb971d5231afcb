// Shape readers: read one field of a loaded document as the type the schema expects. A wrong type
// (a string where an object belongs, a float where an integer belongs…) becomes a clear error at
// the field's path and the reader returns undefined, so validators go on without crashing.
// Absent values (undefined, or YAML `null` from an empty `key:`) are "unset", as protobuf JSON does.
import type { FieldPath, JsonObject } from "../../model/resource.ts";
import { isObject } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";

/** "a string", "a list", "an object"… for messages. */
export function describeType(x: unknown): string {
  if (x === null || x === undefined) return "null";
  if (Array.isArray(x)) return "a list";
  if (typeof x === "object") return "an object";
  if (typeof x === "number") return Number.isInteger(x) ? "an integer" : "a number";
  if (typeof x === "boolean") return "a boolean";
  return `a ${typeof x}`;
}

function quoteSample(x: unknown): string {
  if (typeof x === "string") return ` (${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)})`;
  if (typeof x === "number" || typeof x === "boolean") return ` (${String(x)})`;
  return "";
}

export function typeError(v: Validator, path: FieldPath, expected: string, got: unknown): void {
  v.error(path, `expected ${expected}, got ${describeType(got)}${quoteSample(got)}`);
}

export function isUnset(x: unknown): x is null | undefined {
  return x === undefined || x === null;
}

export function readObject(v: Validator, path: FieldPath, x: unknown): JsonObject | undefined {
  if (isUnset(x)) return undefined;
  if (isObject(x)) return x;
  typeError(v, path, "an object", x);
  return undefined;
}

export function readString(v: Validator, path: FieldPath, x: unknown): string | undefined {
  if (isUnset(x)) return undefined;
  if (typeof x === "string") return x;
  typeError(v, path, "a string", x);
  return undefined;
}

export function readBool(v: Validator, path: FieldPath, x: unknown): boolean | undefined {
  if (isUnset(x)) return undefined;
  if (typeof x === "boolean") return x;
  // BoolValue wrappers may also be written as {value: true}.
  if (isObject(x) && typeof x.value === "boolean") return x.value;
  typeError(v, path, "a boolean (true or false)", x);
  return undefined;
}

export function readNumber(v: Validator, path: FieldPath, x: unknown): number | undefined {
  if (isUnset(x)) return undefined;
  if (typeof x === "number" && Number.isFinite(x)) return x;
  typeError(v, path, "a number", x);
  return undefined;
}

export interface IntRange {
  min?: number;
  max?: number;
}

export const INT32: IntRange = { min: -2147483648, max: 2147483647 };
export const UINT32: IntRange = { min: 0, max: 4294967295 };

/**
 * An integer (int32 unless told otherwise). Wrapper types such as UInt32Value may be written as a
 * bare number or as `{value: n}`; both are accepted.
 */
export function readInt(v: Validator, path: FieldPath, x: unknown, range: IntRange = INT32): number | undefined {
  if (isUnset(x)) return undefined;
  const n = isObject(x) && "value" in x ? x.value : x;
  if (typeof n !== "number" || !Number.isInteger(n)) {
    typeError(v, path, "an integer", x);
    return undefined;
  }
  if ((range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
    v.error(path, `${n} is out of range ${range.min ?? "-inf"}..${range.max ?? "inf"}`);
    return undefined;
  }
  return n;
}

export function readArray(v: Validator, path: FieldPath, x: unknown): unknown[] | undefined {
  if (isUnset(x)) return undefined;
  if (Array.isArray(x)) return x;
  typeError(v, path, "a list", x);
  return undefined;
}

/** A list of strings; wrong items are reported and left out of the result. */
export function readStringArray(v: Validator, path: FieldPath, x: unknown): string[] | undefined {
  const arr = readArray(v, path, x);
  if (!arr) return undefined;
  const out: string[] = [];
  arr.forEach((item, i) => {
    if (typeof item === "string") out.push(item);
    else typeError(v, [...path, i], "a string", item);
  });
  return out;
}

/** A map of strings (labels, header sets); wrong values are reported and left out. */
export function readStringMap(v: Validator, path: FieldPath, x: unknown): Record<string, string> | undefined {
  const obj = readObject(v, path, x);
  if (!obj) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj)) {
    if (typeof val === "string") out[k] = val;
    else typeError(v, [...path, k], "a string (quote numbers and booleans)", val);
  }
  return out;
}

/** A protobuf enum written by name; also accepts its number when `names` lists them in order. */
export function readEnum<T extends string>(v: Validator, path: FieldPath, x: unknown, names: readonly T[]): T | undefined {
  if (isUnset(x)) return undefined;
  if (typeof x === "number" && Number.isInteger(x) && names[x] !== undefined) return names[x];
  if (typeof x === "string" && (names as readonly string[]).includes(x)) return x as T;
  v.error(path, `unsupported value ${JSON.stringify(x)}; expected one of ${names.join(", ")}`);
  return undefined;
}
