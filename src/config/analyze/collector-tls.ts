// Check: a DestinationRule for a telemetry collector's host (a zipkin, opentelemetry or
// envoyOtelAls provider's `service`) makes the export TLS with its files — caCertificates,
// clientCertificate, privateKey, sni, insecureSkipVerify (control-plane/translate/telemetry-collectors.ts).
// Its `credentialName` and `subjectAltNames` are not read for the export (the proxy's secret store
// and SAN checks serve its clusters only), so a rule that relies on them for the collector says so
// (AMM1023) instead of exporting with less than it asks for.
import { meshProviders, serviceHost } from "../mesh-config/providers.ts";
import type { FieldPath } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";

export const collectorTlsCheck: Check = {
  name: "collector-tls",
  run(ctx: AnalysisContext): void {
    const { meshConfig, extraProviders } = ctx.index.options;
    const collectors = new Map<string, string>();
    for (const p of meshProviders(meshConfig, extraProviders ?? [])) {
      for (const kind of ["zipkin", "opentelemetry", "envoyOtelAls"] as const) {
        const service = p[kind]?.service;
        if (service) collectors.set(serviceHost(service), `${kind} provider "${p.name}"`);
      }
    }
    if (collectors.size === 0) return;
    for (const r of ctx.ofKind("DestinationRule", "networking.istio.io")) {
      const spec = specOf(r.body);
      const who = collectors.get(str(spec.host) ?? "");
      if (who === undefined) continue;
      const tlsBlocks: [FieldPath, ReturnType<typeof obj>][] = [[["spec", "trafficPolicy", "tls"], obj(obj(spec.trafficPolicy)?.tls)]];
      arr(obj(spec.trafficPolicy)?.portLevelSettings).forEach((pl, i) => tlsBlocks.push([["spec", "trafficPolicy", "portLevelSettings", i, "tls"], obj(obj(pl)?.tls)]));
      for (const [path, tls] of tlsBlocks) {
        if (tls === undefined || (tls.mode !== "SIMPLE" && tls.mode !== "MUTUAL")) continue;
        for (const field of ["credentialName", "subjectAltNames"] as const) {
          const v = tls[field];
          if (v == null || v === "" || (Array.isArray(v) && v.length === 0)) continue;
          ctx.report(r, "warning", AnalyzerCodes.collectorTlsNotApplied, [...path, field], `tls.${field} is not applied to the telemetry export to ${spec.host} (the ${who}): the export uses caCertificates, clientCertificate, privateKey, sni and insecureSkipVerify only (docs/observability.md, "TLS to the collector").`);
        }
      }
    }
  },
};
