// Check: a Service's selector matches at least one running workload (AMM1003, info: a Service may be
// created before its workloads). Runs only when the input describes workloads at all.
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { formatLabels } from "./json.ts";

export const serviceSelectorsCheck: Check = {
  name: "service-selectors",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    if (!index.knowsWorkloads) return;
    for (const s of index.services) {
      if (s.kind !== "Service" || s.selector === undefined || !ctx.judges(s.resource)) continue;
      const workloads = index.workloadsOf(s) ?? [];
      if (workloads.some((w) => w.replicas > 0)) continue;
      const why = workloads.length > 0 ? "selects only workloads scaled to 0 replicas" : `matches no workload in namespace ${s.namespace}`;
      ctx.report(s.resource, "info", AnalyzerCodes.serviceSelectsNothing, ["spec", "selector"],
        `Service selector ${formatLabels(s.selector)} ${why}, so the service has no endpoints and calls to ${s.host} fail with 503. Check the labels of its workloads.`);
    }
  },
};
