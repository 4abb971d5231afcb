// Check: VirtualService rules that can never match because an earlier rule takes their requests —
// a rule without match (or with a match-everything match such as uri prefix "/") before others, or
// matches duplicated or covered by earlier ones (IST0130 for a dead rule, IST0131 for a dead match).
import type { JsonObject, Resource } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";
import { canonical, covers, isCatchAll } from "./match-cover.ts";

export const unreachableRulesCheck: Check = {
  name: "unreachable-rules",
  run(ctx: AnalysisContext): void {
    for (const vs of ctx.ofKind("VirtualService")) {
      const spec = specOf(vs.body);
      checkRules(ctx, vs, "http", arr(spec.http).map((r) => obj(r) ?? {}), covers);
      // TCP and TLS matches are only compared for equality, as Istio does.
      const equal = (a: JsonObject, b: JsonObject): boolean => canonical(withoutName(a)) === canonical(withoutName(b));
      checkRules(ctx, vs, "tcp", arr(spec.tcp).map((r) => obj(r) ?? {}), equal);
      checkRules(ctx, vs, "tls", arr(spec.tls).map((r) => obj(r) ?? {}), equal);
    }
  },
};

function checkRules(ctx: AnalysisContext, vs: Resource, proto: string, rules: JsonObject[], covered: (a: JsonObject, b: JsonObject) => boolean): void {
  const prior: { match: JsonObject; rule: number }[] = [];
  let catchAll: { rule: number; why: string } | undefined;
  rules.forEach((rule, i) => {
    const name = ruleName(rule, i);
    const matches = arr(rule.match).map((m) => obj(m) ?? {});
    if (catchAll) {
      ctx.report(vs, "warning", AnalyzerCodes.unreachableRule, ["spec", proto, i],
        `VirtualService rule ${name} not used (rule ${ruleName(rules[catchAll.rule] ?? {}, catchAll.rule)} ${catchAll.why}). Put catch-all rules last, or give them a match.`);
      return;
    }
    if (matches.length === 0) {
      catchAll = { rule: i, why: "has no match, so it takes every request" };
      return;
    }
    const hidden: { match: number; by: number }[] = [];
    matches.forEach((m, j) => {
      const by = prior.find((p) => covered(p.match, m));
      if (by) hidden.push({ match: j, by: by.rule });
    });
    if (hidden.length === matches.length) {
      const byRules = [...new Set(hidden.map((h) => ruleName(rules[h.by] ?? {}, h.by)))].join(", ");
      ctx.report(vs, "warning", AnalyzerCodes.unreachableRule, ["spec", proto, i],
        `VirtualService rule ${name} not used (all its matches are duplicates of, or covered by, matches of rule ${byRules}). Move the more specific rule first, or remove this one.`);
    } else {
      for (const h of hidden) {
        ctx.report(vs, "warning", AnalyzerCodes.ineffectiveMatch, ["spec", proto, i, "match", h.match],
          `VirtualService rule ${name} match #${h.match} is not used (duplicate/overlapping match in rule ${ruleName(rules[h.by] ?? {}, h.by)}). Remove it, or move the more specific rule first.`);
      }
    }
    for (const m of matches) prior.push({ match: m, rule: i });
    const everything = matches.find((m) => proto === "http" && isCatchAll(m));
    if (everything) catchAll = { rule: i, why: `takes every request${describe(everything)}` };
  });
}

/** Istio's naming: the rule's name in quotes, else `#index`. */
function ruleName(rule: JsonObject, i: number): string {
  const n = str(rule.name);
  return n ? JSON.stringify(n) : `#${i}`;
}

function describe(m: JsonObject): string {
  const uri = obj(m.uri);
  if (uri && typeof uri.prefix === "string") return ` with its match on uri prefix ${JSON.stringify(uri.prefix)}`;
  if (uri && typeof uri.regex === "string") return ` with its match on uri regex ${JSON.stringify(uri.regex)}`;
  return "";
}

function withoutName(m: JsonObject): JsonObject {
  const { name: _name, ...rest } = m;
  return rest;
}
