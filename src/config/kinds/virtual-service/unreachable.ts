// Warnings for rules that can never be used (accepted by Istio, but almost always a mistake):
// a rule after a catch-all, or a rule whose every match already appeared in an earlier rule.
import type { FieldPath } from "../../../model/resource.ts";
import { isObject } from "../../../model/resource.ts";
import type { Validator } from "../../validator.ts";

function stable(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stable).join(",")}]`;
  if (isObject(x)) return `{${Object.keys(x).filter((k) => k !== "name").sort().map((k) => `${JSON.stringify(k)}:${stable(x[k])}`).join(",")}}`;
  return JSON.stringify(x) ?? "null";
}

function ruleName(r: unknown, i: number): string {
  return isObject(r) && typeof r.name === "string" && r.name !== "" ? JSON.stringify(r.name) : `#${i}`;
}

export function warnUnreachableRules(v: Validator, path: FieldPath, routes: readonly unknown[]): void {
  const seen = new Map<string, number>();
  let catchAll = -1;
  routes.forEach((r, i) => {
    if (!isObject(r)) return;
    const matches = Array.isArray(r.match) ? r.match : [];
    if (matches.length === 0) {
      if (catchAll >= 0) v.warn([...path, i], `virtualService rule ${ruleName(r, i)} not used (only the last rule can have no matches)`);
      catchAll = i;
      return;
    }
    let dups = 0;
    matches.forEach((m, j) => {
      const key = stable(m);
      const prev = seen.get(key);
      if (prev !== undefined) {
        const mname = isObject(m) && typeof m.name === "string" && m.name ? JSON.stringify(m.name) : `#${j}`;
        v.warn([...path, i, "match", j], `virtualService rule ${ruleName(r, i)} match ${mname} is not used (duplicate/overlapping match in rule ${ruleName(routes[prev], prev)})`);
        dups++;
      } else seen.set(key, i);
    });
    if (dups === matches.length) v.warn([...path, i], `virtualService rule ${ruleName(r, i)} not used (all matches used by prior rules)`);
  });
}
