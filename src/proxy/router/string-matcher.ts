// StringMatch compiled once into a predicate: exact and prefix compare without allocating (ASCII
// case folding for ignoreUriCase, as Envoy's absl::EqualsIgnoreCase), regex is a full match.

import type { StringMatch } from "../../model/proxy-config.ts";
import { compileFullMatch } from "./regex.ts";

export type StringPredicate = (value: string) => boolean;

/** ASCII-only case-insensitive `startsWith`; `lowerPrefix` must already be lowercase. */
export function startsWithIgnoreCase(value: string, lowerPrefix: string): boolean {
  const n = lowerPrefix.length;
  if (value.length < n) return false;
  for (let i = 0; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lowerPrefix.charCodeAt(i)) return false;
  }
  return true;
}

export function compileStringMatch(match: StringMatch, ignoreCase = false): StringPredicate {
  if ("exact" in match) {
    const exact = match.exact;
    if (ignoreCase) {
      const lower = asciiLower(exact);
      return (v) => v.length === lower.length && startsWithIgnoreCase(v, lower);
    }
    return (v) => v === exact;
  }
  if ("prefix" in match) {
    const prefix = match.prefix;
    if (ignoreCase) {
      const lower = asciiLower(prefix);
      return (v) => startsWithIgnoreCase(v, lower);
    }
    return (v) => v.startsWith(prefix);
  }
  // Istio applies ignoreUriCase to exact and prefix only; regex stays case-sensitive.
  const re = compileFullMatch(match.regex);
  return (v) => re.test(v);
}

/** `exact "x"`, `prefix "/a"`, `regex "v[0-9]"`: how explain and docs print a StringMatch. */
export function describeStringMatch(match: StringMatch, ignoreCase = false): string {
  const suffix = ignoreCase && !("regex" in match) ? " (ignoring case)" : "";
  if ("exact" in match) return `exact ${JSON.stringify(match.exact)}${suffix}`;
  if ("prefix" in match) return `prefix ${JSON.stringify(match.prefix)}${suffix}`;
  return `regex ${JSON.stringify(match.regex)}`;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}
