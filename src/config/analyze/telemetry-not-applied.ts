// Check: the parts of a Telemetry resource that the translation (control-plane/translate/
// telemetry.ts) does not apply are named (AMM1017), so a Telemetry is never half-ignored in
// silence: targetRef(s), custom tags other than literals, per-metric overrides and tag overrides,
// reportingInterval, an access-log filter other than `response.code <op> N`, and providers after
// the first (Istio warns about those too; kinds/telemetry.ts does).
import type { FieldPath } from "../resource.ts";
import { AnalyzerCodes } from "./codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";

/** The only filter form the sidecar evaluates (compileLogFilter in src/proxy/telemetry/settings.ts). */
const SUPPORTED_FILTER = /^\s*response\.code\s*(==|!=|<=|>=|<|>)\s*(\d+)\s*$/;

export const telemetryNotAppliedCheck: Check = {
  name: "telemetry-not-applied",
  run(ctx: AnalysisContext): void {
    for (const r of ctx.ofKind("Telemetry", "telemetry.istio.io")) {
      const spec = specOf(r.body);
      const say = (path: FieldPath, what: string): void => ctx.report(r, "warning", AnalyzerCodes.telemetryNotApplied, path, `${what} (docs/observability.md, "Configuration").`);
      for (const f of ["targetRef", "targetRefs"]) {
        if (spec[f] != null) say(["spec", f], `Telemetry ${f} is not applied: this resource is ignored by every proxy; use selector.matchLabels`);
      }
      arr(spec.tracing).forEach((t, i) => {
        const tags = obj(obj(t)?.customTags) ?? {};
        for (const [name, tag] of Object.entries(tags)) {
          const kind = ["environment", "header", "formatter"].find((k) => obj(tag)?.[k] != null);
          if (kind) say(["spec", "tracing", i, "customTags", name], `custom tag ${JSON.stringify(name)} uses ${kind}, which is not applied: only literal tags are added to spans`);
        }
        if (obj(t)?.useRequestIdForTraceSampling === false) say(["spec", "tracing", i, "useRequestIdForTraceSampling"], "useRequestIdForTraceSampling: false is not applied: the sidecar always samples by x-request-id");
        if (obj(t)?.enableIstioTags === false) say(["spec", "tracing", i, "enableIstioTags"], "enableIstioTags: false is not applied: spans always carry the istio.* tags");
      });
      arr(spec.accessLogging).forEach((a, i) => {
        const expr = str(obj(obj(a)?.filter)?.expression);
        if (expr !== undefined && !SUPPORTED_FILTER.test(expr)) say(["spec", "accessLogging", i, "filter", "expression"], `filter ${JSON.stringify(expr)} is not applied: the sidecar evaluates only \`response.code <op> N\` (==, !=, <, <=, >, >=) and logs every request otherwise`);
      });
      arr(spec.metrics).forEach((m, i) => {
        if (obj(m)?.reportingInterval != null) say(["spec", "metrics", i, "reportingInterval"], "reportingInterval is not applied: metrics are read when scraped");
        arr(obj(m)?.overrides).forEach((o, j) => reportOverride(say, ["spec", "metrics", i, "overrides", j], obj(o)));
      });
    }
  },
};

function reportOverride(say: (path: FieldPath, what: string) => void, at: FieldPath, o: ReturnType<typeof obj>): void {
  if (!o) return;
  if (obj(o.tagOverrides) && Object.keys(obj(o.tagOverrides) ?? {}).length > 0) say([...at, "tagOverrides"], "tagOverrides are not applied: metrics keep Istio's standard labels");
  const match = obj(o.match);
  const metric = str(match?.metric);
  if (match?.customMetric != null) say([...at, "match", "customMetric"], "overrides of custom metrics are not applied");
  else if (o.disabled === true && metric !== undefined && metric !== "ALL_METRICS") say([...at, "match", "metric"], `disabling only ${metric} is not applied: the sidecar turns metrics off all together (ALL_METRICS) or not at all`);
}
