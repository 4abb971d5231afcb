// Percentages: the `Percent {value: double}` of fault injection and mirroring, and plain 0..100 ints.
import type { FieldPath } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { readNumber, readObject } from "./shape.ts";
import { checkKnownFields } from "./fields.ts";

/** Istio's validatePercentage text: 0, or within [0.0001, 100]. */
export function percentageError(value: number): string | null {
  if (value < 0 || value > 100 || (value > 0 && value < 0.0001)) return `percentage ${value} is neither 0.0, nor in range [0.0001, 100.0]`;
  return null;
}

/** Read a `{value: n}` Percent; returns the value (not range-checked) or undefined. */
export function readPercent(v: Validator, path: FieldPath, x: unknown): number | undefined {
  const obj = readObject(v, path, x);
  if (!obj) return undefined;
  checkKnownFields(v, path, obj, ["value"]);
  return readNumber(v, [...path, "value"], obj.value) ?? 0;
}

/** Read a Percent and apply Istio's fault/mirror rule. */
export function checkPercent(v: Validator, path: FieldPath, x: unknown): number | undefined {
  const n = readPercent(v, path, x);
  if (n === undefined) return undefined;
  const err = percentageError(n);
  if (err) {
    v.error([...path, "value"], err);
    return undefined;
  }
  return n;
}

/** "percentage 105 is not in range 0..100" (outlier detection, warmup). */
export function percentRangeError(n: number): string | null {
  return n < 0 || n > 100 ? `percentage ${n} is not in range 0..100` : null;
}
