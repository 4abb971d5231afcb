// Check: a RateLimit (amime.dev) that is accepted but never limits anything.
// - AMM1021: `spec.service` names a host no Service or ServiceEntry defines: the translation
//   (control-plane/translate/rate-limit/kind.ts, selectsProxy) then selects no proxy.
// - IST0127 (Istio's NoMatchingWorkloadsFound, as for AuthorizationPolicy): `spec.selector`
//   matches no workload of the namespace. Only when the input describes workloads.
// - AMM1022: a rule keyed by `{claim: NAME}` on workloads no RequestAuthentication (with jwtRules)
//   covers: no request carries a verified token, so the key is never present and, as Envoy drops a
//   descriptor whose action yields nothing, the rule never counts a request.
import type { Resource } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, formatLabels, obj, selects, specOf, str, strMap } from "./json.ts";
import type { MeshIndex, WorkloadInfo } from "./mesh-index.ts";

const SECURITY = "security.istio.io";

export const rateLimitKindCheck: Check = {
  name: "ratelimit-kind",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    const authns = ctx.ofKind("RequestAuthentication", SECURITY).filter((ra) => arr(specOf(ra.body).jwtRules).length > 0);
    for (const rl of ctx.ofKind("RateLimit", "amime.dev")) {
      if (!ctx.judges(rl)) continue;
      const spec = specOf(rl.body);
      const ns = index.namespaceOf(rl);
      const host = str(spec.service);
      const selector = strMap(obj(spec.selector)?.matchLabels);
      let workloads: WorkloadInfo[] | undefined;
      if (host !== undefined) {
        const services = index.services.filter((s) => s.host === host);
        if (services.length === 0) {
          ctx.report(rl, "warning", AnalyzerCodes.rateLimitServiceUnknown, ["spec", "service"],
            `No Service or ServiceEntry defines ${host}: this RateLimit applies to no workload, so its rules limit nothing. Name the Service's host (e.g. productpage.default.svc.cluster.local), or use spec.selector.`);
          continue;
        }
        if (index.knowsWorkloads) {
          workloads = index.workloads.filter((w) => w.replicas > 0 && services.some((s) => s.selector !== undefined && s.namespace === w.namespace && selects(s.selector, w.labels)));
        }
      } else if (index.knowsWorkloads) {
        const meshWide = Object.keys(selector).length === 0 && ns === index.options.rootNamespace;
        workloads = index.workloads.filter((w) => w.replicas > 0 && (meshWide || w.namespace === ns) && selects(selector, w.labels));
        if (Object.keys(selector).length > 0 && workloads.length === 0) {
          ctx.report(rl, "warning", AnalyzerCodes.noMatchingWorkloads, ["spec", "selector"], `No matching workloads for this resource with the following labels: ${formatLabels(selector)}`);
          continue;
        }
      }
      const covered = workloads === undefined
        ? authns.some((ra) => [ns, index.options.rootNamespace].includes(index.namespaceOf(ra)))
        : workloads.length === 0 || workloads.some((w) => authns.some((ra) => covers(index, ra, w)));
      if (covered) continue;
      arr(spec.rules).forEach((rule, i) => {
        const claim = str(obj(obj(rule)?.key)?.claim);
        if (claim === undefined) return;
        const where = workloads === undefined ? `namespace ${ns}` : `the workloads it applies to (${workloads.map((w) => w.name).join(", ")})`;
        ctx.report(rl, "warning", AnalyzerCodes.rateLimitClaimWithoutAuthn, ["spec", "rules", i, "key", "claim"],
          `This rule is keyed by the JWT claim ${claim}, but no RequestAuthentication with jwtRules covers ${where}: no request carries a verified token, so the rule never counts one. Apply a RequestAuthentication for those workloads, or key the rule otherwise.`);
      });
    }
  },
};

/** A RequestAuthentication applies to `w`: its selector in w's namespace, or without one in w's namespace or the root namespace. */
function covers(index: MeshIndex, ra: Resource, w: WorkloadInfo): boolean {
  const ns = index.namespaceOf(ra);
  const selector = strMap(obj(specOf(ra.body).selector)?.matchLabels);
  if (Object.keys(selector).length > 0) return ns === w.namespace && selects(selector, w.labels);
  return ns === w.namespace || ns === index.options.rootNamespace;
}
