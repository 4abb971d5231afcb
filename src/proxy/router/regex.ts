// Istio/Envoy regexes are RE2 and must match the WHOLE value (Envoy safe_regex is a full match).
// JavaScript has no RE2, so we translate the few RE2-only spellings people use and anchor the
// pattern: `^(?:pattern)$` with the `u` flag. See docs/routing.md for what differs.

import { RouterError } from "./router-error.ts";

interface Translated {
  source: string;
  flags: string;
}

/** RE2 spellings JS lacks: leading `(?i)` / `(?s)` / `(?is)` flags and `(?P<name>` groups. */
function translateRe2(pattern: string): Translated {
  let source = pattern;
  let flags = "";
  const lead = /^\(\?([is]+)\)/.exec(source);
  if (lead) {
    flags = [...new Set(lead[1])].join("");
    source = source.slice(lead[0].length);
  }
  source = source.replaceAll("(?P<", "(?<");
  return { source, flags };
}

function build(source: string, flags: string, pattern: string): RegExp {
  try {
    return new RegExp(source, flags + "u");
  } catch {
    // RE2 accepts escapes like `\-` outside a class that JS rejects in unicode mode; retry
    // without `u` before declaring the pattern invalid.
    try {
      return new RegExp(source, flags);
    } catch (err) {
      throw new RouterError("ROUTER_BAD_REGEX", `invalid regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
  }
}

/** A regex that must match the whole input (Envoy safe_regex / Istio StringMatch.regex). */
export function compileFullMatch(pattern: string): RegExp {
  const t = translateRe2(pattern);
  return build(`^(?:${t.source})$`, t.flags, pattern);
}

/** A global, unanchored regex for substitutions (Envoy regex_rewrite replaces every match). */
export function compileGlobal(pattern: string): RegExp {
  const t = translateRe2(pattern);
  return build(t.source, t.flags + "g", pattern);
}
