// StringMatch `{exact | prefix | regex}` (a protobuf oneof).
import type { FieldPath } from "../../model/resource.ts";
import type { StringMatch } from "../../model/specs/networking.ts";
import type { Validator } from "../validator.ts";
import { checkKnownFields } from "./fields.ts";
import { regexFieldError } from "./regex.ts";
import { readObject, readString } from "./shape.ts";

export interface StringMatchOptions {
  /** Name Istio puts in quotes in its messages: "uri", "headers", "method"… */
  where: string;
  /** An empty prefix is allowed for uri (it matches everything), not for headers/method/scheme. */
  allowEmptyPrefix?: boolean;
}

/**
 * Read and check a StringMatch. `{}` is valid (for headers it means "present"). Returns the parsed
 * match or undefined when absent or malformed.
 */
export function checkStringMatch(v: Validator, path: FieldPath, x: unknown, opts: StringMatchOptions): StringMatch | undefined {
  const obj = readObject(v, path, x);
  if (!obj) return undefined;
  checkKnownFields(v, path, obj, ["exact", "prefix", "regex"]);
  const set = (["exact", "prefix", "regex"] as const).filter((k) => obj[k] !== undefined && obj[k] !== null);
  if (set.length > 1) {
    v.error(path, `only one of exact, prefix or regex may be set (found ${set.join(" and ")})`);
    return undefined;
  }
  const out: StringMatch = {};
  const kind = set[0];
  if (!kind) return out;
  const value = readString(v, [...path, kind], obj[kind]);
  if (value === undefined) return undefined;
  if (kind === "prefix" && value === "" && !opts.allowEmptyPrefix) {
    v.error([...path, kind], `"${opts.where}": prefix string match should not be empty`);
    return undefined;
  }
  if (kind === "regex") {
    const err = value === "" ? `"${opts.where}": regex string match should not be empty` : regexFieldError(value, opts.where);
    if (err) {
      v.error([...path, kind], err);
      return undefined;
    }
  }
  out[kind] = value;
  return out;
}
