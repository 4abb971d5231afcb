// Check: the parts of a Telemetry resource that the translation (control-plane/translate/
// telemetry.ts) does not apply are named (AMM1017), so a Telemetry is never half-ignored in
// silence: targetRef(s), `formatter` custom tags, custom-metric overrides and
// reportingInterval without an exporting metrics provider, tag override values outside the CEL
// subset the sidecar evaluates (Istio's validator accepts any string there). (An access-log filter
// outside that subset is a schema error, kinds/telemetry.ts; so are providers after the first.)
import { celProblem } from "../../model/cel/compile.ts";
import { meshProviders, providerType } from "../mesh-config/providers.ts";
import type { FieldPath } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";

export const telemetryNotAppliedCheck: Check = {
  name: "telemetry-not-applied",
  run(ctx: AnalysisContext): void {
    const { meshConfig, extraProviders } = ctx.index.options;
    const providers = new Map(meshProviders(meshConfig, extraProviders ?? []).map((p) => [p.name, p]));
    const defaults = meshConfig?.defaultProviders?.metrics ?? [];
    // reportingInterval paces the exporters (opentelemetry, dogstatsd); Prometheus reads when it scrapes.
    const exports = (entry: Parameters<typeof obj>[0]): boolean => {
      const named = arr(obj(entry)?.providers).map((p) => str(obj(p)?.name) ?? "");
      return (named.length > 0 ? named : defaults).some((n) => {
        const p = providers.get(n);
        const t = p === undefined ? undefined : providerType(p);
        return t === "opentelemetry" || t === "dogstatsd";
      });
    };
    for (const r of ctx.ofKind("Telemetry", "telemetry.istio.io")) {
      const spec = specOf(r.body);
      const say = (path: FieldPath, what: string): void => ctx.report(r, "warning", AnalyzerCodes.telemetryNotApplied, path, `${what} (docs/observability.md, "Configuration").`);
      for (const f of ["targetRef", "targetRefs"]) {
        if (spec[f] != null) say(["spec", f], `Telemetry ${f} is not applied: this resource is ignored by every proxy; use selector.matchLabels`);
      }
      arr(spec.tracing).forEach((t, i) => {
        const tags = obj(obj(t)?.customTags) ?? {};
        for (const [name, tag] of Object.entries(tags)) {
          if (obj(tag)?.formatter != null) say(["spec", "tracing", i, "customTags", name], `custom tag ${JSON.stringify(name)} uses formatter, which is not applied: literal, header and environment tags are added to spans`);
        }
      });
      arr(spec.metrics).forEach((m, i) => {
        if (obj(m)?.reportingInterval != null && !exports(m)) say(["spec", "metrics", i, "reportingInterval"], "reportingInterval is not applied: it paces the metrics exporters (opentelemetry and dogstatsd providers), and this entry has none; Prometheus reads metrics when it scrapes");
        arr(obj(m)?.overrides).forEach((o, j) => reportOverride(say, ["spec", "metrics", i, "overrides", j], obj(o)));
      });
    }
  },
};

function reportOverride(say: (path: FieldPath, what: string) => void, at: FieldPath, o: ReturnType<typeof obj>): void {
  if (obj(o?.match)?.customMetric != null) say([...at, "match", "customMetric"], "overrides of custom metrics are not applied: Amime reports Istio's standard metrics only");
  for (const [name, tag] of Object.entries(obj(o?.tagOverrides) ?? {})) {
    const value = str(obj(tag)?.value);
    const problem = value !== undefined && obj(tag)?.operation !== "REMOVE" ? celProblem(value) : "";
    if (problem) say([...at, "tagOverrides", name, "value"], `tag override ${JSON.stringify(name)} is not applied: its value is not a CEL expression Amime evaluates (${problem}); the tag keeps its standard value — see docs/observability.md, "Expressions"`);
  }
}
