// Check: a DestinationRule's host is a service the mesh knows (IST0174, a warning as in Istio: the
// rule is harmless but does nothing).
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { hostsOverlap, isWildcard, splitServiceHost } from "./hosts.ts";
import { closest } from "./suggest.ts";

export const destinationRuleHostsCheck: Check = {
  name: "destination-rule-hosts",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    for (const rule of index.destinationRules) {
      if (!ctx.judges(rule.resource)) continue;
      const found = isWildcard(rule.host)
        ? index.services.some((s) => hostsOverlap(rule.host, s.host))
        : index.findServices(rule.rawHost, rule.namespace).length > 0;
      if (found) continue;
      const short = !rule.rawHost.includes(".");
      const names = index.services.map((s) => {
        const parts = splitServiceHost(s.host, index.options.domainSuffix);
        return short && parts?.namespace === rule.namespace ? parts.name : s.host;
      });
      const guess = closest(rule.rawHost.toLowerCase(), names);
      const hint = guess ? `Did you mean ${JSON.stringify(guess)}?` : "Fix the host, use the full name for a service in another namespace, or add a ServiceEntry for a host outside the mesh.";
      ctx.report(rule.resource, "warning", AnalyzerCodes.unknownDestinationRuleHost, ["spec", "host"],
        `The host ${rule.rawHost} defined in the DestinationRule does not match any services in the mesh (${rule.host}), so the rule has no effect. ${hint}`);
    }
  },
};
