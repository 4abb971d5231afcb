// Check: every provider a Telemetry resource, the MeshConfig's defaultProviders or a CUSTOM
// AuthorizationPolicy names exists (AMM1011, error: Istio would drop the section, and Amime used to
// turn tracing or access logs off without a word), and is one the sidecar can use for that purpose
// (AMM1012, warning: Datadog, SkyWalking, OTLP/gRPC tracing, the HTTP/TCP access log services… are not exported yet).
import { meshProviders, providerProblem, providerType, type TelemetrySection } from "../mesh-config/providers.ts";
import type { FieldPath, Resource } from "../../model/resource.ts";
import type { ExtensionProvider } from "../../model/specs/mesh-config.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";
import { suggestField } from "../checks/fields.ts";

const SECTIONS: readonly TelemetrySection[] = ["tracing", "accessLogging", "metrics"];

export const providersCheck: Check = {
  name: "providers",
  run(ctx: AnalysisContext): void {
    const { meshConfig, extraProviders } = ctx.index.options;
    const providers = meshProviders(meshConfig, extraProviders ?? []);
    const byName = new Map(providers.map((p) => [p.name, p]));
    const names = [...byName.keys()];
    const where = meshConfig ? "the MeshConfig's extensionProviders or Istio's built-ins" : "Istio's built-in providers (no valid --mesh-config)";
    const unknown = (name: string): string => {
      const guess = suggestField(name, names);
      return `Unknown provider "${name}": it is not in ${where} (${names.join(", ")})${guess ? `. Did you mean "${guess}"?` : ""}. Define it under extensionProviders in the MeshConfig (--mesh-config FILE); until then this section does nothing.`;
    };
    const judge = (r: Resource, path: FieldPath, section: TelemetrySection, name: string): void => {
      const p = byName.get(name);
      if (!p) return ctx.report(r, "error", AnalyzerCodes.unknownProvider, path, unknown(name));
      const problem = providerProblem(section, p);
      if (problem) ctx.report(r, "warning", AnalyzerCodes.providerNotExported, path, `${section}: ${problem}.`);
    };
    for (const r of ctx.ofKind("Telemetry", "telemetry.istio.io")) {
      const spec = specOf(r.body);
      for (const section of SECTIONS) {
        arr(spec[section]).forEach((entry, i) => {
          if (section === "accessLogging" && obj(entry)?.disabled === true) return;
          arr(obj(entry)?.providers).forEach((p, j) => {
            const name = str(obj(p)?.name);
            if (name) judge(r, ["spec", section, i, "providers", j, "name"], section, name);
          });
        });
      }
    }
    for (const r of ctx.ofKind("AuthorizationPolicy", "security.istio.io")) {
      const spec = specOf(r.body);
      if (spec.action !== "CUSTOM") continue;
      const name = str(obj(spec.provider)?.name);
      if (!name) continue;
      const p = byName.get(name);
      if (!p) ctx.report(r, "error", AnalyzerCodes.unknownProvider, ["spec", "provider", "name"], unknown(name));
      else if (!isExtAuthz(p)) ctx.report(r, "error", AnalyzerCodes.unknownProvider, ["spec", "provider", "name"], `Provider "${name}" is of type ${providerType(p) ?? "unknown"}; a CUSTOM AuthorizationPolicy needs an envoyExtAuthzHttp or envoyExtAuthzGrpc provider.`);
    }
  },
};

function isExtAuthz(p: ExtensionProvider): boolean {
  const t = providerType(p);
  return t === "envoyExtAuthzHttp" || t === "envoyExtAuthzGrpc";
}
