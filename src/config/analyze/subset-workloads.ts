// Check: each DestinationRule subset selects at least one running workload of its service (IST0173).
// Runs only when the input describes workloads at all; otherwise every subset would look empty.
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { isWildcard } from "./hosts.ts";
import { formatLabels, selects } from "./json.ts";
import type { WorkloadInfo } from "./mesh-index.ts";

export const subsetWorkloadsCheck: Check = {
  name: "subset-workloads",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    if (!index.knowsWorkloads) return;
    for (const rule of index.destinationRules) {
      if (!ctx.judges(rule.resource) || isWildcard(rule.host)) continue;
      const services = index.findServices(rule.rawHost, rule.namespace);
      const known = services.map((s) => index.workloadsOf(s)).filter((w): w is WorkloadInfo[] => w !== undefined);
      // External services and Services without selector: the config cannot tell what backs them.
      if (known.length === 0) continue;
      const candidates = [...new Set(known.flat())];
      for (const subset of rule.subsets) {
        if (Object.keys(subset.labels).length === 0) continue;
        const matched = candidates.filter((w) => selects(subset.labels, w.labels));
        if (matched.some((w) => w.replicas > 0)) continue;
        const consequence = "so requests routed to it fail with 503 (no healthy upstream)";
        const message = matched.length > 0
          ? `Subset ${JSON.stringify(subset.name)} (labels ${formatLabels(subset.labels)}) selects only workloads scaled to 0 replicas (${matched.map((w) => `${w.kind} ${w.name}`).join(", ")}), ${consequence}. Scale one up or route elsewhere.`
          : `Subset ${JSON.stringify(subset.name)} (labels ${formatLabels(subset.labels)}) selects no workload of ${rule.host}, ${consequence}. ${labelHint(subset.labels, candidates)}`;
        ctx.report(rule.resource, "warning", AnalyzerCodes.subsetSelectsNothing, [...subset.path, "labels"], message);
      }
    }
  },
};

/** What the service's workloads carry under the subset's label keys, to spot a misspelt value. */
function labelHint(labels: Record<string, string>, workloads: readonly WorkloadInfo[]): string {
  if (workloads.length === 0) return "The service has no workloads in this config; add one with these labels.";
  const seen: string[] = [];
  for (const key of Object.keys(labels)) {
    const values = [...new Set(workloads.map((w) => w.labels[key]).filter((v): v is string => v !== undefined))];
    seen.push(values.length ? `${key}=${values.join("|")}` : `no ${key} label`);
  }
  return `Its workloads carry ${seen.join(", ")}; fix the subset labels or add a workload with them.`;
}
