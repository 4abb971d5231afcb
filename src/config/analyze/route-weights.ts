// Check: a split over several destinations whose weights are all 0 (or unset) sends traffic nowhere
// (AMM1002). A single destination gets all traffic whatever its weight, so it is never flagged.
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { routeGroupsOf } from "./destinations.ts";

export const routeWeightsCheck: Check = {
  name: "route-weights",
  run(ctx: AnalysisContext): void {
    for (const vs of ctx.ofKind("VirtualService")) {
      for (const g of routeGroupsOf(vs)) {
        if (g.destinations.length < 2) continue;
        if (g.destinations.some((d) => (d.weight ?? 0) > 0)) continue;
        ctx.report(vs, "error", AnalyzerCodes.zeroTotalWeight, g.path,
          `All ${g.destinations.length} destinations of this split have weight 0 (or none), so it sends no traffic (Istio rejects it: total destination weight = 0). Give the destinations weights, e.g. ones that add up to 100.`);
      }
    }
  },
};
