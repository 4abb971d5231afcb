// Whether one HTTP match request covers another: every request the later match accepts is already
// taken by the earlier one. Conservative — when unsure it answers "no", so the analyzer never claims
// a rule is dead when it might not be.
import { isObject, type Json, type JsonObject } from "../../model/resource.ts";
import { obj, selects, strMap } from "./json.ts";

/** Fields that name or label a match without narrowing it. */
const NEUTRAL = new Set(["name", "statPrefix", "ignoreUriCase"]);
const STRING_MATCH_FIELDS = new Set(["uri", "scheme", "method", "authority"]);

/** Whether `m` accepts every request: only neutral fields, or a uri of prefix "/" (every path has it), "" or regex ".*". */
export function isCatchAll(m: JsonObject): boolean {
  return Object.entries(m).every(([k, v]) => NEUTRAL.has(k) || (k === "uri" && isTrivial(v, true)));
}

/** Whether match `a` (earlier) accepts every request that match `b` (later) accepts. */
export function covers(a: JsonObject, b: JsonObject): boolean {
  const aCase = a.ignoreUriCase === true;
  const bCase = b.ignoreUriCase === true;
  for (const [k, av] of Object.entries(a)) {
    if (NEUTRAL.has(k)) continue;
    const bv = b[k];
    if (STRING_MATCH_FIELDS.has(k)) {
      const uri = k === "uri";
      if (!stringMatchCovers(av, bv, uri, uri && aCase, uri && bCase)) return false;
    } else if (k === "headers" || k === "queryParams") {
      if (!mapCovers(av, bv)) return false;
    } else if (k === "sourceLabels") {
      // Fewer required labels select more clients.
      if (!isObject(bv) || !selects(strMap(av), strMap(bv))) return false;
    } else if (!sameJson(av, bv)) {
      // port, gateways, withoutHeaders, sourceNamespace and anything unknown: only identical values.
      return false;
    }
  }
  return true;
}

function isTrivial(v: Json | undefined, uri: boolean): boolean {
  const m = obj(v);
  if (!m) return false;
  if (m.prefix === "" || (uri && m.prefix === "/")) return true;
  return m.regex === ".*";
}

function stringMatchCovers(av: Json | undefined, bv: Json | undefined, uri: boolean, aIgnoreCase: boolean, bIgnoreCase: boolean): boolean {
  if (isTrivial(av, uri)) return true;
  const a = obj(av);
  const b = obj(bv);
  if (!a || !b) return false;
  // A case-insensitive later match accepts spellings a case-sensitive earlier one refuses.
  if (bIgnoreCase && !aIgnoreCase) return false;
  const norm = (s: string): string => (aIgnoreCase ? s.toLowerCase() : s);
  const bValue = typeof b.exact === "string" ? b.exact : typeof b.prefix === "string" ? b.prefix : undefined;
  if (typeof a.exact === "string") return typeof b.exact === "string" && norm(a.exact) === norm(b.exact);
  if (typeof a.prefix === "string") return bValue !== undefined && norm(bValue).startsWith(norm(a.prefix));
  if (typeof a.regex === "string") return typeof b.regex === "string" && a.regex === b.regex;
  return false;
}

/** Every entry `a` requires is required at least as narrowly by `b`. */
function mapCovers(av: Json | undefined, bv: Json | undefined): boolean {
  const a = obj(av);
  if (!a) return false;
  const b = obj(bv) ?? {};
  for (const [key, cond] of Object.entries(a)) {
    if (!(key in b)) return false;
    const c = obj(cond);
    // `{}` only asks for presence, which any condition on the same key implies.
    if (c && Object.keys(c).length === 0) continue;
    if (!stringMatchCovers(cond, b[key], false, false, false)) return false;
  }
  return true;
}

export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with sorted keys, so `{a,b}` and `{b,a}` compare equal. */
export function canonical(v: Json | undefined): string {
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}
