// Check: AuthorizationPolicies and RequestAuthentications that cannot do what they read as.
// - IST0127 (Istio's NoMatchingWorkloadsFound): an AuthorizationPolicy selector that matches no workload.
// - AMM1019: a rule that never matches where it applies: `to.ports` none of the selected workloads
//   has; HTTP-only fields (hosts, methods, paths, requestPrincipals, request.* keys) in an ALLOW rule
//   that only reaches TCP ports (Istio drops such a rule: it never matches); peer-identity fields
//   (principals, namespaces, source.principal…) while PeerAuthentication DISABLE turns mTLS off for
//   the workloads (no peer identity: an ALLOW rule never matches, a DENY rule never applies).
// - AMM1020: a RequestAuthentication with no ALLOW AuthorizationPolicy on requestPrincipals (or
//   request.auth.*) for the same workloads: requests without a token pass (Istio's semantics).
// - IST0149 (Istio's JwtClaimBasedRoutingWithoutRequestAuthN): a gateway VirtualService routes on
//   `@request.auth.claims` but no RequestAuthentication selects the gateway's workloads.
// Workload-dependent findings are made only when the input describes workloads.
import type { Resource } from "../../model/resource.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, formatLabels, obj, selects, specOf, str, strList, strMap } from "./json.ts";
import type { MeshIndex, WorkloadInfo } from "./mesh-index.ts";

const SECURITY = "security.istio.io";
const HTTP_OPERATION = ["hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"];
const HTTP_SOURCE = ["requestPrincipals", "notRequestPrincipals"];
const IDENTITY_SOURCE = ["principals", "notPrincipals", "namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts", "trustDomains", "notTrustDomains"];
const IDENTITY_KEYS = ["source.principal", "source.namespace", "source.serviceAccount", "source.trustDomain"];
/** Istio protocols (port-name prefixes) the sidecar handles as TCP, where HTTP-only fields cannot be evaluated. */
const TCP_PROTOCOLS = new Set(["tcp", "tls", "https", "mongo", "mysql", "redis"]);

interface Target {
  namespace: string;
  workloads: WorkloadInfo[];
  /** Container ports of the selected workloads (from their Services), with whether each is TCP; null when some port is named, so unknown. */
  ports: Map<number, boolean> | null;
}

export const authzPoliciesCheck: Check = {
  name: "authz-policies",
  run(ctx: AnalysisContext): void {
    const { index } = ctx;
    const policies = ctx.ofKind("AuthorizationPolicy", SECURITY);
    for (const r of policies) {
      if (!ctx.judges(r)) continue;
      const spec = specOf(r.body);
      const ns = index.namespaceOf(r);
      const selector = obj(spec.selector) !== undefined ? strMap(obj(spec.selector)?.matchLabels) : undefined;
      if (!index.knowsWorkloads) continue;
      const target = targetOf(index, ns, selector, ns === index.options.rootNamespace);
      if (selector !== undefined && Object.keys(selector).length > 0 && target.workloads.length === 0) {
        ctx.report(r, "warning", AnalyzerCodes.noMatchingWorkloads, ["spec", "selector"], `No matching workloads for this resource with the following labels: ${formatLabels(selector)}`);
        continue;
      }
      if (target.workloads.length > 0) checkRules(ctx, index, r, str(spec.action) ?? "ALLOW", target);
    }
    for (const r of ctx.ofKind("RequestAuthentication", SECURITY)) {
      if (!ctx.judges(r) || !index.knowsWorkloads) continue;
      const spec = specOf(r.body);
      const ns = index.namespaceOf(r);
      const selector = obj(spec.selector) !== undefined ? strMap(obj(spec.selector)?.matchLabels) : undefined;
      const target = targetOf(index, ns, selector, ns === index.options.rootNamespace);
      if (target.workloads.length === 0 || arr(spec.jwtRules).length === 0) continue;
      const enforced = target.workloads.every((w) => policies.some((p) => requiresToken(index, p, w)));
      if (!enforced) {
        ctx.report(r, "warning", AnalyzerCodes.jwtOptional, ["spec", "jwtRules"],
          "Tokens are optional: a request without a token passes this RequestAuthentication (only a present, invalid token gets 401). To require one, add an ALLOW AuthorizationPolicy for the same workloads with `from.source.requestPrincipals: [\"*\"]` (Istio's \"Require a valid token\").");
      }
    }
    jwtClaimRoutes(ctx, index);
  },
};

/** The workloads a policy in `ns` with `selector` applies to (root namespace without selector: all). */
function targetOf(index: MeshIndex, ns: string, selector: Record<string, string> | undefined, meshWide: boolean): Target {
  const hasSelector = selector !== undefined && Object.keys(selector).length > 0;
  const workloads = index.workloads.filter((w) => w.replicas > 0 && (hasSelector ? w.namespace === ns && selects(selector, w.labels) : meshWide || w.namespace === ns));
  let ports: Map<number, boolean> | null = new Map();
  for (const s of index.services) {
    if (s.kind !== "Service" || s.selector === undefined || !workloads.some((w) => w.namespace === s.namespace && selects(s.selector as Record<string, string>, w.labels))) continue;
    for (const p of s.ports) {
      const target = p.targetPort ?? p.number;
      if (typeof target !== "number") {
        ports = null;
        break;
      }
      const proto = (p.name ?? "").toLowerCase().split("-")[0] ?? "";
      ports?.set(target, (ports.get(target) ?? true) && TCP_PROTOCOLS.has(proto));
    }
    if (ports === null) break;
  }
  return { namespace: ns, workloads, ports: ports !== null && ports.size > 0 ? ports : null };
}

function checkRules(ctx: AnalysisContext, index: MeshIndex, r: Resource, action: string, target: Target): void {
  const disabled = target.workloads.filter((w) => index.effectiveMtls(w.namespace, w.labels).mode === "DISABLE");
  arr(specOf(r.body).rules).forEach((rule, i) => {
    const o = obj(rule);
    if (o === undefined) return;
    const at = ["spec", "rules", i];
    const ops = arr(o.to).map((t) => obj(obj(t)?.operation) ?? {});
    const sources = arr(o.from).map((f) => obj(obj(f)?.source) ?? {});
    const keys = arr(o.when).map((c) => str(obj(c)?.key) ?? "");
    // to.ports that no selected workload has.
    if (target.ports !== null) {
      ops.forEach((op, j) => {
        const ports = strList(op.ports);
        const missing = ports.filter((p) => !(target.ports as Map<number, boolean>).has(Number(p)));
        if (ports.length > 0 && missing.length === ports.length) {
          ctx.report(r, "warning", AnalyzerCodes.authzRuleNeverMatches, [...at, "to", j, "operation", "ports"],
            `Port${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not a port of the selected workloads (${[...(target.ports as Map<number, boolean>).keys()].join(", ")}: their Services' target ports), so this operation never matches.`);
        }
      });
    }
    // HTTP-only fields in an ALLOW rule that reaches only TCP ports.
    const httpOnly = [...ops.flatMap((op) => HTTP_OPERATION.filter((f) => op[f] !== undefined)), ...sources.flatMap((s) => HTTP_SOURCE.filter((f) => s[f] !== undefined)), ...keys.filter((k) => k.startsWith("request."))];
    if ((action === "ALLOW" || action === "AUDIT") && httpOnly.length > 0 && target.ports !== null) {
      const named = ops.flatMap((op) => strList(op.ports).map(Number));
      const reached = named.length > 0 ? named.filter((p) => (target.ports as Map<number, boolean>).has(p)) : [...(target.ports as Map<number, boolean>).keys()];
      if (reached.length > 0 && reached.every((p) => (target.ports as Map<number, boolean>).get(p) === true)) {
        ctx.report(r, "warning", AnalyzerCodes.authzRuleNeverMatches, at,
          `This ${action} rule uses HTTP-only fields (${[...new Set(httpOnly)].join(", ")}) but applies only to TCP port${reached.length > 1 ? "s" : ""} ${reached.join(", ")}: on a TCP connection they cannot be evaluated, so (as Istio) the rule never matches${action === "ALLOW" ? " and the connections are denied" : ""}.`);
      }
    }
    // Peer identity while mTLS is off.
    const identity = [...sources.flatMap((s) => IDENTITY_SOURCE.filter((f) => s[f] !== undefined)), ...keys.filter((k) => IDENTITY_KEYS.includes(k))];
    if (identity.length > 0 && disabled.length > 0 && disabled.length === target.workloads.length && action !== "AUDIT") {
      ctx.report(r, "warning", AnalyzerCodes.authzRuleNeverMatches, at,
        `This rule matches on the peer identity (${[...new Set(identity)].join(", ")}), but PeerAuthentication mode DISABLE turns mutual TLS off for ${disabled.map((w) => w.name).join(", ")}: callers have no identity, so ${action === "ALLOW" ? "the rule never matches (its callers are denied)" : action === "DENY" ? "a positive condition never holds and the rule denies nothing it names" : "the rule never matches"}.`);
    }
  });
}

/** An ALLOW policy that selects `w` and only lets requests with a verified token through (requestPrincipals or request.auth.* in every rule). */
function requiresToken(index: MeshIndex, p: Resource, w: WorkloadInfo): boolean {
  const spec = specOf(p.body);
  if ((str(spec.action) ?? "ALLOW") !== "ALLOW") return false;
  const ns = index.namespaceOf(p);
  const selector = obj(spec.selector) !== undefined ? strMap(obj(spec.selector)?.matchLabels) : {};
  const scoped = Object.keys(selector).length > 0 ? ns === w.namespace && selects(selector, w.labels) : ns === index.options.rootNamespace || ns === w.namespace;
  if (!scoped) return false;
  const rules = arr(spec.rules).map((x) => obj(x) ?? {});
  return rules.length > 0 && rules.every((rule) =>
    arr(rule.from).some((f) => obj(obj(f)?.source)?.requestPrincipals !== undefined) || arr(rule.when).some((c) => (str(obj(c)?.key) ?? "").startsWith("request.auth.")));
}

/** IST0149: claim routes on gateways that no RequestAuthentication covers. */
function jwtClaimRoutes(ctx: AnalysisContext, index: MeshIndex): void {
  const gateways = ctx.ofKind("Gateway");
  const authns = ctx.ofKind("RequestAuthentication", SECURITY);
  for (const vs of ctx.ofKind("VirtualService")) {
    if (!ctx.judges(vs)) continue;
    const spec = specOf(vs.body);
    const vsNs = index.namespaceOf(vs);
    const claims = arr(spec.http).flatMap((h) => arr(obj(h)?.match).flatMap((m) => [...Object.keys(obj(obj(m)?.headers) ?? {}), ...Object.keys(obj(obj(m)?.withoutHeaders) ?? {})]))
      .filter((k) => k.startsWith("@request.auth.claims"));
    if (claims.length === 0) continue;
    for (const ref of strList(spec.gateways)) {
      if (ref === "mesh") continue;
      const [gwNs, gwName] = ref.includes("/") ? (ref.split("/") as [string, string]) : [vsNs, ref];
      const gw = gateways.find((g) => g.metadata.name === gwName && index.namespaceOf(g) === gwNs);
      if (gw === undefined) continue;
      const gwSelector = strMap(specOf(gw.body).selector);
      const pods = index.workloads.filter((w) => selects(gwSelector, w.labels));
      const podNamespaces = pods.length > 0 ? [...new Set(pods.map((w) => w.namespace))] : [index.options.rootNamespace];
      const covered = authns.some((ra) => {
        const rs = specOf(ra.body);
        const raNs = index.namespaceOf(ra);
        const sel = strMap(obj(rs.selector)?.matchLabels);
        const labels = pods.length > 0 ? pods.map((w) => w.labels) : [gwSelector];
        const inScope = raNs === index.options.rootNamespace || podNamespaces.includes(raNs);
        return inScope && arr(rs.jwtRules).length > 0 && labels.some((l) => selects(sel, l));
      });
      if (!covered) {
        const key = claims[0]?.replace(/^@request\.auth\.claims\.?/, "") ?? "";
        ctx.report(vs, "warning", AnalyzerCodes.jwtClaimRoutingWithoutAuthn, ["spec", "gateways"],
          `The virtual service uses the JWT claim based routing (key: ${key}) but found no request authentication for the gateway (${gwNs}/${gwName}). The request authentication must first be applied for the gateway workloads to validate the JWT token and make the claims available for routing.`);
      }
    }
  }
}
