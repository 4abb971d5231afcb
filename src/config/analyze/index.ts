// Analyze: the cross-resource stage of config checking (what `istioctl analyze` does). Runs after
// parsing, on the whole set of loaded resources: schema validation of each resource (so analyze ⊇
// validate), then checks that look across resources through a MeshIndex. Pure: no node:* imports.
import type { Diagnostic } from "../../model/diagnostic.ts";
import type { Resource } from "../../model/resource.ts";
import { validateResource } from "../validate.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import { appProtocolCheck } from "./app-protocol.ts";
import { authzPoliciesCheck } from "./authz-policies.ts";
import { conflictingHostsCheck } from "./conflicting-hosts.ts";
import { AnalysisContext, type Check } from "./context.ts";
import { destinationHostsCheck } from "./destination-hosts.ts";
import { destinationRuleHostsCheck } from "./destination-rule-hosts.ts";
import { destinationSubsetsCheck } from "./destination-subsets.ts";
import { gatewayRefsCheck } from "./gateway-refs.ts";
import { MeshIndex, type IndexOptions } from "./mesh-index.ts";
import { mtlsConflictsCheck } from "./mtls-conflicts.ts";
import { notEnforcedCheck } from "./not-enforced.ts";
import { providersCheck } from "./providers.ts";
import { rateLimitKindCheck } from "./ratelimit-kind.ts";
import { rateLimitServiceCheck } from "./ratelimit-service.ts";
import { routeWeightsCheck } from "./route-weights.ts";
import { serviceSelectorsCheck } from "./service-selectors.ts";
import { subsetWorkloadsCheck } from "./subset-workloads.ts";
import { collectorTlsCheck } from "./collector-tls.ts";
import { telemetryNotAppliedCheck } from "./telemetry-not-applied.ts";
import { unreachableRulesCheck } from "./unreachable-rules.ts";

export { AnalyzerCodes, NOT_APPLIED_CODES } from "../analyzer-codes.ts";
export type { Check } from "./context.ts";
export { MeshIndex } from "./mesh-index.ts";

export type AnalyzeOptions = Partial<IndexOptions>;

/** The checks; findings at the same position are listed in this order. Adding one: a file + a line. */
export const CHECKS: readonly Check[] = [
  destinationHostsCheck,
  destinationSubsetsCheck,
  routeWeightsCheck,
  gatewayRefsCheck,
  conflictingHostsCheck,
  unreachableRulesCheck,
  destinationRuleHostsCheck,
  subsetWorkloadsCheck,
  mtlsConflictsCheck,
  serviceSelectorsCheck,
  providersCheck,
  notEnforcedCheck,
  authzPoliciesCheck,
  appProtocolCheck,
  telemetryNotAppliedCheck,
  collectorTlsCheck,
  rateLimitServiceCheck,
  rateLimitKindCheck,
];

export function analyze(resources: readonly Resource[], options: AnalyzeOptions = {}, checks: readonly Check[] = CHECKS): Diagnostic[] {
  const namespace = options.namespace || "default";
  const all = resources.map((r) => withNamespace(r, namespace));
  const diagnostics: Diagnostic[] = [];
  const valid: Resource[] = [];
  for (const r of all) {
    const v = validateResource(r);
    diagnostics.push(...v.diagnostics);
    // Resources with schema errors are not judged across resources (their findings would be noise),
    // but they stay in the index so that what refers to them is not reported as missing.
    if (v.status === "valid") valid.push(r);
  }
  const found = runChecks(all, valid, { ...options, namespace }, checks);
  return sortByPosition([...withoutRestatedWarnings(diagnostics, found), ...found], all);
}

/**
 * Runs the checks over `judged` (resources that passed validation), with every resource of `all`
 * (namespaces already defaulted) in the index. Exported for tests of single checks.
 */
export function runChecks(all: readonly Resource[], judged: readonly Resource[], options: AnalyzeOptions, checks: readonly Check[]): Diagnostic[] {
  const ctx = new AnalysisContext(new MeshIndex(all, options), judged);
  const out: Diagnostic[] = [];
  for (const check of checks) {
    try {
      check.run(ctx);
    } catch (e) {
      // An analyzer bug must never hide the other findings or crash the caller.
      out.push({ level: "error", code: AnalyzerCodes.internalError, message: `Internal error in analyzer ${check.name}: ${(e as Error).message}`, resource: "", path: "", source: { file: "", line: 0, column: 0 } });
    }
  }
  return [...out, ...ctx.diagnostics];
}

/**
 * The VirtualService validator already warns, as Istio's does, about rules made dead by an identical
 * earlier match; the analyzer's IST0130/IST0131 say the same with more cases covered. Keep only the
 * analyzer's finding for a rule (and its matches) so a user reads each problem once.
 */
function withoutRestatedWarnings(schema: Diagnostic[], found: readonly Diagnostic[]): Diagnostic[] {
  const dead = found.filter((d) => d.code === AnalyzerCodes.unreachableRule || d.code === AnalyzerCodes.ineffectiveMatch);
  if (dead.length === 0) return schema;
  return schema.filter((d) => !(d.level === "warning" && /^virtualService rule .* not used/i.test(d.message) &&
    dead.some((x) => x.resource === d.resource && (d.path === x.path || d.path.startsWith(`${x.path}.`)))));
}

/** Resources without a namespace live in the default one (`--namespace`), as kubectl apply -n would put them. */
export function withNamespace(r: Resource, namespace: string): Resource {
  if (r.metadata.namespace) return r;
  return { ...r, metadata: { ...r.metadata, namespace } };
}

/** Files in the order they were given (as the resources came), then by line and column. */
function sortByPosition(ds: Diagnostic[], resources: readonly Resource[]): Diagnostic[] {
  const rank = new Map<string, number>();
  for (const r of resources) if (!rank.has(r.source.file)) rank.set(r.source.file, rank.size);
  const fileRank = (f: string): number => rank.get(f) ?? -1;
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => fileRank(a.d.source.file) - fileRank(b.d.source.file) || a.d.source.line - b.d.source.line || a.d.source.column - b.d.source.column || a.i - b.i)
    .map((x) => x.d);
}
