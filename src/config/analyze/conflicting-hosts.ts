// Check: two VirtualServices bound to the same gateway define the same host. For the mesh (sidecars)
// Istio keeps only one of them, so it is an error (IST0109). For a named gateway Istio merges their
// rules in creation order, which files cannot express, so it is a warning (AMM1004).
import type { FieldPath, Resource } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, specOf, str, strList } from "./json.ts";

interface Binding {
  vs: Resource;
  ns: string;
  exportTo: string[];
  path: FieldPath;
}

export const conflictingHostsCheck: Check = {
  name: "conflicting-hosts",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    const groups = new Map<string, { gateway: string; host: string; bindings: Binding[] }>();
    for (const vs of ctx.ofKind("VirtualService")) {
      const ns = index.namespaceOf(vs);
      const spec = specOf(vs.body);
      const gws = strList(spec.gateways);
      const gateways = new Set((gws.length ? gws : ["mesh"]).map((g) => index.gatewayKey(g, ns)));
      const exportTo = strList(spec.exportTo);
      arr(spec.hosts).forEach((h, i) => {
        const host = str(h);
        if (!host) return;
        const fqdn = index.canonicalHost(host, ns);
        for (const gateway of gateways) {
          const key = `${gateway} ${fqdn}`;
          const g = groups.get(key) ?? { gateway, host: fqdn, bindings: [] };
          // One VirtualService listing a host twice is a schema matter, not a conflict.
          if (!g.bindings.some((b) => b.vs === vs)) g.bindings.push({ vs, ns, exportTo, path: ["spec", "hosts", i] });
          groups.set(key, g);
        }
      });
    }
    for (const { gateway, host, bindings } of groups.values()) {
      if (bindings.length < 2) continue;
      for (const b of bindings) {
        const others = bindings.filter((o) => o !== b && exportsOverlap(b, o));
        if (others.length === 0) continue;
        const names = bindings.filter((x) => x === b || others.includes(x)).map((x) => `${x.ns}/${x.vs.metadata.name}`).join(", ");
        if (gateway === "mesh") {
          ctx.report(b.vs, "error", AnalyzerCodes.conflictingMeshGatewayHosts, b.path,
            `The VirtualServices ${names} associated with mesh gateway define the same host ${host}, which can lead to undefined behavior (sidecars use only one of them). Merge them into a single VirtualService.`);
        } else {
          ctx.report(b.vs, "warning", AnalyzerCodes.sharedGatewayHost, b.path,
            `The VirtualServices ${names} bound to gateway ${gateway} define the same host ${host}; their rules are merged in the order the resources were created, so a catch-all rule in one can hide the rules of the other. Prefer a single VirtualService per host and gateway.`);
        }
      }
    }
  },
};

/** Whether some namespace sees both VirtualServices (exportTo "." / "~" / names / "*"; empty = all). */
function exportsOverlap(a: Binding, b: Binding): boolean {
  const sa = visibleSet(a);
  const sb = visibleSet(b);
  if (sa === "all") return sb === "all" || sb.size > 0;
  if (sb === "all") return sa.size > 0;
  for (const n of sa) if (sb.has(n)) return true;
  return false;
}

function visibleSet(b: Binding): "all" | Set<string> {
  if (b.exportTo.length === 0 || b.exportTo.includes("*")) return "all";
  return new Set(b.exportTo.filter((e) => e !== "~").map((e) => (e === "." ? b.ns : e)));
}
