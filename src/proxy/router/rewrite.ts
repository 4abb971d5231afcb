// Path rewrite before forwarding (Istio HTTPRewrite → Envoy prefix_rewrite / regex_rewrite).
// The query string is never touched; only the path before `?` is rewritten.

import type { RouteMatch, RewritePolicy } from "../../model/proxy-config.ts";
import { compileGlobal } from "./regex.ts";

/**
 * `rewrite.uri` replaces the matched prefix (prefix match), or the whole path (exact or regex
 * match). A route without a uri match is Envoy's `prefix: "/"`, so `/a` with uri `/v2/` becomes
 * `/v2/a`. `rewrite.uriRegex` replaces every match of its pattern in the path (Envoy
 * regex_rewrite, RE2 GlobalReplace), with `\1`/`$1` group references. Returns `path` itself when
 * nothing changes.
 */
export function rewritePath(path: string, match: RouteMatch, rewrite: RewritePolicy | undefined): string {
  if (rewrite === undefined) return path;
  if (rewrite.uri !== undefined) return replacePrefix(path, match, rewrite.uri);
  if (rewrite.uriRegex !== undefined) {
    const q = path.indexOf("?");
    const p = q === -1 ? path : path.slice(0, q);
    const { re, replace } = compiledRegexRewrite(rewrite.uriRegex);
    const out = p.replace(re, replace);
    return q === -1 ? out : out + path.slice(q);
  }
  return path;
}

/** Swap the part of `path` the route's uri match covered for `replacement`, keeping the query. */
export function replacePrefix(path: string, match: RouteMatch, replacement: string): string {
  const q = path.indexOf("?");
  const pathEnd = q === -1 ? path.length : q;
  const uri = match.uri;
  let covered: number;
  if (uri === undefined) covered = path.startsWith("/") ? 1 : 0;
  else if ("prefix" in uri) covered = Math.min(uri.prefix.length, pathEnd);
  else covered = pathEnd;
  return replacement + path.slice(covered);
}

interface CompiledRegexRewrite {
  re: RegExp;
  replace: (match: string, ...rest: unknown[]) => string;
}

const regexRewrites = new WeakMap<object, CompiledRegexRewrite>();

function compiledRegexRewrite(spec: { match: string; rewrite: string }): CompiledRegexRewrite {
  let c = regexRewrites.get(spec);
  if (c === undefined) {
    c = { re: compileGlobal(spec.match), replace: substitution(spec.rewrite) };
    regexRewrites.set(spec, c);
  }
  return c;
}

/**
 * RE2 rewrite strings use `\0`..`\9` (and `\\` for a backslash); Istio docs show `\1`. We also
 * accept `$0`..`$9`. Everything else is literal (so `$x` and `$$` stay as written).
 */
export function substitution(template: string): (match: string, ...rest: unknown[]) => string {
  const parts: (string | number)[] = [];
  let lit = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    const next = template.charCodeAt(i + 1);
    if ((ch === "\\" || ch === "$") && next >= 48 && next <= 57) {
      if (lit !== "") parts.push(lit);
      lit = "";
      parts.push(next - 48);
      i++;
    } else if (ch === "\\" && template[i + 1] === "\\") {
      lit += "\\";
      i++;
    } else {
      lit += ch;
    }
  }
  if (lit !== "") parts.push(lit);
  return (match: string, ...rest: unknown[]): string => {
    let out = "";
    for (const part of parts) {
      if (typeof part === "string") out += part;
      else if (part === 0) out += match;
      else {
        const g = rest[part - 1];
        if (typeof g === "string") out += g;
      }
    }
    return out;
  };
}
