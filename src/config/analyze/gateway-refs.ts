// Check: every gateway a VirtualService binds to (spec.gateways and match[].gateways) exists (IST0101).
import type { FieldPath } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";
import { closest } from "./suggest.ts";

export const gatewayRefsCheck: Check = {
  name: "gateway-refs",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    for (const vs of ctx.ofKind("VirtualService")) {
      const ns = index.namespaceOf(vs);
      const spec = specOf(vs.body);
      const refs: { ref: string; path: FieldPath }[] = [];
      arr(spec.gateways).forEach((g, i) => {
        const s = str(g);
        if (s) refs.push({ ref: s, path: ["spec", "gateways", i] });
      });
      for (const proto of ["http", "tcp", "tls"] as const) {
        arr(spec[proto]).forEach((rule, i) => {
          arr(obj(rule)?.match).forEach((m, j) => {
            arr(obj(m)?.gateways).forEach((g, k) => {
              const s = str(g);
              if (s) refs.push({ ref: s, path: ["spec", proto, i, "match", j, "gateways", k] });
            });
          });
        });
      }
      for (const { ref, path } of refs) {
        const key = index.gatewayKey(ref, ns);
        if (key === "mesh" || index.gateways.has(key)) continue;
        const guess = closest(key, index.gateways.keys());
        const hint = guess ? `Did you mean ${JSON.stringify(guess)}?` : `Define Gateway ${key}, or fix the reference (\`name\` for this namespace, \`namespace/name\` otherwise, \`mesh\` for sidecars).`;
        ctx.report(vs, "error", AnalyzerCodes.referencedResourceNotFound, path, `Referenced gateway not found: ${JSON.stringify(ref)} (no Gateway ${key}). ${hint}`);
      }
    }
  },
};
