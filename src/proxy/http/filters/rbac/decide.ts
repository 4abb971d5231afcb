// The authorization decision over compiled policies (pure), in Istio's order: AUDIT (never
// changes the decision) → DENY (any match denies) → ALLOW (no ALLOW policy: allow; else allow
// only when one matches). Dry-run policies are evaluated the same way into a shadow result that
// is never enforced.
import type { RbacConfig, RbacPolicy } from "../../../../model/proxy-config.ts";
import { compileRule, ruleMatches, type AuthzAttributes, type CompiledRule } from "./matcher.ts";

export interface CompiledPolicy {
  readonly name: string;
  readonly action: RbacPolicy["action"];
  readonly rules: readonly CompiledRule[];
  /** The verdict of each rule, built once (a matching request shares it instead of allocating one). */
  readonly verdicts: readonly Verdict[];
}

export interface CompiledRbac {
  readonly audit: readonly CompiledPolicy[];
  readonly deny: readonly CompiledPolicy[];
  readonly allow: readonly CompiledPolicy[];
  readonly shadowDeny: readonly CompiledPolicy[];
  readonly shadowAllow: readonly CompiledPolicy[];
  readonly useRemoteAddress: boolean;
  readonly trustedHops: number;
}

/** Which policy and rule decided (`none` when no ALLOW matched); `rule` -1 with `none`. */
export interface Verdict {
  readonly allowed: boolean;
  readonly policy: string;
  readonly rule: number;
}

export const ALLOWED_NO_POLICY: Verdict = Object.freeze({ allowed: true, policy: "", rule: -1 });
const DENIED_NONE: Verdict = Object.freeze({ allowed: false, policy: "none", rule: -1 });

/** Compile a pushed config (`tcp`: for a network filter, see compileRule); throws Error naming the policy and rule. */
export function compileRbac(config: RbacConfig, tcp = false): CompiledRbac {
  if (typeof config !== "object" || config === null || !Array.isArray(config.policies)) throw new Error(`rbac: config needs a "policies" list`);
  const out = { audit: [] as CompiledPolicy[], deny: [] as CompiledPolicy[], allow: [] as CompiledPolicy[], shadowDeny: [] as CompiledPolicy[], shadowAllow: [] as CompiledPolicy[] };
  for (const p of config.policies) {
    if (!["ALLOW", "DENY", "AUDIT"].includes(p.action)) throw new Error(`rbac: policy ${p.name}: action ${JSON.stringify(p.action)} is not ALLOW, DENY or AUDIT`);
    const rules = (p.rules ?? []).map((r, i) => {
      try {
        return compileRule(r, p.namespace ?? "default", p.action, tcp);
      } catch (e) {
        throw new Error(`rbac: policy ${p.name} rule ${i}: ${(e as Error).message}`);
      }
    });
    const verdicts = rules.map((_, i) => Object.freeze({ allowed: p.action !== "DENY", policy: p.name, rule: i }));
    const c: CompiledPolicy = { name: p.name, action: p.action, rules, verdicts };
    if (p.action === "AUDIT") out.audit.push(c);
    else if (p.action === "DENY") (p.dryRun ? out.shadowDeny : out.deny).push(c);
    else (p.dryRun ? out.shadowAllow : out.allow).push(c);
  }
  return { ...out, useRemoteAddress: config.useRemoteAddress === true, trustedHops: Math.max(0, Math.floor(Number(config.trustedHops) || 0)) };
}

/** The first rule of `p` that matches, or -1. */
export function matchingRule(p: CompiledPolicy, a: AuthzAttributes): number {
  for (let i = 0; i < p.rules.length; i++) if (ruleMatches(p.rules[i] as CompiledRule, a)) return i;
  return -1;
}

function firstMatch(list: readonly CompiledPolicy[], a: AuthzAttributes): Verdict | null {
  for (const p of list) {
    const i = matchingRule(p, a);
    if (i >= 0) return p.verdicts[i] as Verdict;
  }
  return null;
}

/** The enforced decision. */
export function decide(c: CompiledRbac, a: AuthzAttributes): Verdict {
  return evaluate(c.deny, c.allow, a);
}

/** The dry-run decision (null when no dry-run policy applies). */
export function decideShadow(c: CompiledRbac, a: AuthzAttributes): Verdict | null {
  if (c.shadowDeny.length === 0 && c.shadowAllow.length === 0) return null;
  return evaluate(c.shadowDeny, c.shadowAllow, a);
}

/** The AUDIT policies that match (their names). */
export function audited(c: CompiledRbac, a: AuthzAttributes): string[] {
  return [...auditedLike(c, a, undefined)];
}

const NOT_AUDITED: readonly string[] = Object.freeze([]);

/**
 * audited() for the request path: `same` (a list from an earlier request) is returned as it is
 * when the same policies match, and no match is one shared empty list, so no list is allocated.
 */
export function auditedLike(c: CompiledRbac, a: AuthzAttributes, same: readonly string[] | undefined): readonly string[] {
  let out: string[] | null = null;
  let k = 0; // policies matched so far that agree with `same`
  for (const p of c.audit) {
    if (matchingRule(p, a) < 0) continue;
    if (out === null && same !== undefined && same[k] === p.name) {
      k++;
      continue;
    }
    if (out === null) out = (same ?? []).slice(0, k);
    out.push(p.name);
  }
  if (out !== null) return out;
  if (k === 0) return NOT_AUDITED;
  return same !== undefined && k === same.length ? same : (same ?? []).slice(0, k);
}

function evaluate(deny: readonly CompiledPolicy[], allow: readonly CompiledPolicy[], a: AuthzAttributes): Verdict {
  const denied = firstMatch(deny, a);
  if (denied !== null) return denied;
  if (allow.length === 0) return ALLOWED_NO_POLICY;
  return firstMatch(allow, a) ?? DENIED_NONE;
}
