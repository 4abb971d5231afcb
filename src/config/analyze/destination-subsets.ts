// Check: a destination's subset is defined by a DestinationRule for that host (IST0101), and a split
// does not name a subset that only another host of the same split defines (AMM1001) — the typical
// copy-paste slip in `route: [{host: a, subset: v2}, {host: b, subset: v2}]`.
import { formatPath, resourceId } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { routeGroupsOf, destinationsOf, type DestinationRef } from "./destinations.ts";
import type { SubsetInfo } from "./mesh-index.ts";

export const destinationSubsetsCheck: Check = {
  name: "destination-subsets",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    for (const vs of ctx.ofKind("VirtualService")) {
      const ns = index.namespaceOf(vs);
      const subsetsOf = (host: string): SubsetInfo[] => index.subsetsFor(index.canonicalHost(host, ns), ns);
      // Siblings: the other destinations of the same weighted split.
      const siblings = new Map<string, DestinationRef[]>();
      for (const g of routeGroupsOf(vs)) for (const d of g.destinations) siblings.set(formatPath(d.path), g.destinations);
      for (const d of destinationsOf(vs)) {
        if (!d.host || !d.subset) continue;
        const known = subsetsOf(d.host);
        if (known.some((s) => s.name === d.subset)) continue;
        const path = [...d.path, "subset"];
        const fqdn = index.canonicalHost(d.host, ns);
        const other = (siblings.get(formatPath(d.path)) ?? [])
          .filter((s) => s.host && index.canonicalHost(s.host, ns) !== fqdn)
          .flatMap((s) => subsetsOf(s.host as string).filter((x) => x.name === d.subset).map((x) => ({ host: s.host as string, subset: x })))[0];
        if (other) {
          ctx.report(vs, "error", AnalyzerCodes.subsetOfOtherHost, path,
            `Subset ${JSON.stringify(d.subset)} is defined for ${other.host} (${resourceId(other.subset.rule.resource)}), not for ${d.host}, the host of this destination; this split mixes hosts. Set the host to ${other.host}, or define subset ${JSON.stringify(d.subset)} in a DestinationRule for ${d.host}.`);
          continue;
        }
        const rules = index.destinationRulesFor(fqdn, ns);
        const why = rules.length === 0
          ? `no DestinationRule for ${fqdn} exists; add one with subset ${JSON.stringify(d.subset)}`
          : `${rules.map((r) => resourceId(r.resource)).join(", ")} define${rules.length === 1 ? "s" : ""} ${known.length ? `only ${known.map((s) => JSON.stringify(s.name)).join(", ")}` : "no subsets"}; add subset ${JSON.stringify(d.subset)} there or fix the name`;
        ctx.report(vs, "error", AnalyzerCodes.referencedResourceNotFound, path,
          `Referenced host+subset in destinationrule not found: "${d.host}+${d.subset}" (${why}).`);
      }
    }
  },
};

