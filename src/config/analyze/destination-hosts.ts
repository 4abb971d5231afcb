// Check: every route and mirror destination names a host some Service or ServiceEntry defines (IST0101).
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { destinationsOf } from "./destinations.ts";
import { resolveHost, splitServiceHost } from "./hosts.ts";
import { closest } from "./suggest.ts";

export const destinationHostsCheck: Check = {
  name: "destination-hosts",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    for (const vs of ctx.ofKind("VirtualService")) {
      const ns = index.namespaceOf(vs);
      for (const d of destinationsOf(vs)) {
        if (!d.host || index.findServices(d.host, ns).length > 0) continue;
        const fqdn = resolveHost(d.host, ns, index.options.domainSuffix);
        const what = d.role === "mirror" ? "mirror host" : "host";
        ctx.report(vs, "error", AnalyzerCodes.referencedResourceNotFound, [...d.path, "host"],
          `Referenced ${what} not found: ${JSON.stringify(d.host)} (no Service or ServiceEntry defines ${fqdn}). ${hint(ctx, d.host, ns)}`);
      }
    }
  },
};

function hint(ctx: AnalysisContext, host: string, ns: string): string {
  const { index } = ctx;
  // Offer the nearest name in the form the user wrote: short names against services of the same namespace.
  const short = !host.includes(".");
  const names = index.services.map((s) => {
    const parts = splitServiceHost(s.host, index.options.domainSuffix);
    return short && parts?.namespace === ns ? parts.name : s.host;
  });
  const guess = closest(host.toLowerCase(), names);
  if (guess) return `Did you mean ${JSON.stringify(guess)}?`;
  return "Fix the name, or add a Service (or a ServiceEntry for a host outside the mesh).";
}
