// Check: the TLS mode a DestinationRule asks clients to use agrees with the mTLS mode the target
// workloads accept (IST0113). Plaintext or SIMPLE TLS toward a STRICT workload is refused; ISTIO_MUTUAL
// toward a workload whose PeerAuthentication is DISABLE fails too.
import { resourceId, type FieldPath } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { isWildcard } from "./hosts.ts";
import { arr, formatLabels, num, obj, selects, specOf, str, strMap } from "./json.ts";
import type { DestinationRuleInfo, EffectiveMtls, MeshIndex, ServiceInfo } from "./mesh-index.ts";

export interface TlsSetting {
  mode: string;
  path: FieldPath;
  /** Subset labels narrowing the target workloads ({} for the whole service). */
  labels: Record<string, string>;
  port?: number;
}

interface Target {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** Service port → container port, to find portLevelMtls entries. */
  targetPorts: Map<number, number>;
}

export const mtlsConflictsCheck: Check = {
  name: "mtls-conflicts",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    for (const rule of index.destinationRules) {
      if (!ctx.judges(rule.resource) || isWildcard(rule.host)) continue;
      const services = index.findServices(rule.rawHost, rule.namespace);
      const targets = services.flatMap((s) => targetsOf(index, s));
      if (targets.length === 0) continue;
      for (const tls of tlsSettingsOf(rule)) {
        const conflicts = new Map<string, { policy: EffectiveMtls; names: string[] }>();
        for (const t of targets) {
          if (!selects(tls.labels, t.labels)) continue;
          const eff = portAware(index.effectiveMtls(t.namespace, t.labels), tls.port, t);
          if (!conflicting(tls.mode, eff.mode)) continue;
          const key = eff.policy ? resourceId(eff.policy.resource) : "";
          const c = conflicts.get(key) ?? { policy: eff, names: [] };
          c.names.push(t.name);
          conflicts.set(key, c);
        }
        for (const [policyId, c] of conflicts) report(ctx, rule, tls, policyId, c.policy.mode, c.names);
      }
    }
  },
};

function conflicting(clientMode: string, serverMode: string): boolean {
  if (serverMode === "STRICT") return clientMode === "DISABLE" || clientMode === "SIMPLE";
  if (serverMode === "DISABLE") return clientMode === "ISTIO_MUTUAL";
  return false;
}

function report(ctx: AnalysisContext, rule: DestinationRuleInfo, tls: TlsSetting, policyId: string, serverMode: string, names: string[]): void {
  const head = `A DestinationRule and Policy are in conflict with regards to mTLS for host ${rule.host}${tls.port ? ` port ${tls.port}` : ""}:`;
  const who = `${names.slice(0, 3).join(", ")}${names.length > 3 ? `, and ${names.length - 3} more` : ""}`;
  const policy = policyId ? `PeerAuthentication ${policyId.replace(/^PeerAuthentication /, "")}` : "the mesh default";
  const message = serverMode === "STRICT"
    ? `${head} this rule sets tls.mode ${tls.mode} (${tls.mode === "SIMPLE" ? "TLS without an Istio client certificate" : "plaintext"}) but ${policy} requires STRICT mTLS on ${who}, so Istio's sidecars refuse those connections. Set the PeerAuthentication to PERMISSIVE, or remove tls to let auto mTLS decide.`
    : `${head} this rule sets tls.mode ISTIO_MUTUAL but ${policy} sets mTLS DISABLE on ${who}, whose sidecars then do not accept mTLS. Remove tls (auto mTLS sends plaintext there) or set it to DISABLE, or set the PeerAuthentication to PERMISSIVE.`;
  ctx.report(rule.resource, "error", AnalyzerCodes.mtlsPolicyConflict, tls.path, message);
}

/** The workloads behind a service; a service whose workloads are not in the config stands in as one workload carrying its selector. */
function targetsOf(index: MeshIndex, s: ServiceInfo): Target[] {
  const targetPorts = new Map<number, number>();
  for (const p of s.ports) if (typeof p.targetPort === "number") targetPorts.set(p.number, p.targetPort);
  const workloads = index.workloadsOf(s);
  if (workloads === undefined) return [];
  if (workloads.length === 0) {
    if (s.selector === undefined) return [];
    return [{ name: `the workloads selected by ${formatLabels(s.selector)}`, namespace: s.namespace, labels: s.selector, targetPorts }];
  }
  return workloads.map((w) => ({ name: `${w.kind} ${w.name}`, namespace: w.namespace, labels: w.labels, targetPorts }));
}

/** portLevelMtls overrides the workload mode for one port (keyed by container port). */
function portAware(eff: EffectiveMtls, port: number | undefined, t: Target): EffectiveMtls {
  if (port === undefined || !eff.policy) return eff;
  const modes = eff.policy.portModes;
  const m = modes[String(t.targetPorts.get(port) ?? port)] ?? modes[String(port)];
  return m && m !== "UNSET" ? { mode: m, policy: eff.policy } : eff;
}

/** Every tls.mode a DestinationRule sets: top level, per port, per subset. */
export function tlsSettingsOf(rule: Pick<DestinationRuleInfo, "resource">): TlsSetting[] {
  const spec = specOf(rule.resource.body);
  const out: TlsSetting[] = [];
  const fromPolicy = (policyPath: FieldPath, policy: ReturnType<typeof obj>, labels: Record<string, string>): void => {
    if (!policy) return;
    const mode = str(obj(policy.tls)?.mode)?.toUpperCase();
    if (mode) out.push({ mode, path: [...policyPath, "tls", "mode"], labels });
    arr(policy.portLevelSettings).forEach((p, i) => {
      const o = obj(p);
      const m = str(obj(o?.tls)?.mode)?.toUpperCase();
      if (o && m) out.push({ mode: m, path: [...policyPath, "portLevelSettings", i, "tls", "mode"], labels, port: num(obj(o.port)?.number) });
    });
  };
  fromPolicy(["spec", "trafficPolicy"], obj(spec.trafficPolicy), {});
  arr(spec.subsets).forEach((s, i) => {
    const o = obj(s);
    if (o) fromPolicy(["spec", "subsets", i, "trafficPolicy"], obj(o.trafficPolicy), strMap(o.labels));
  });
  return out;
}
