// AuthorizationPolicy rules compiled to predicates over a request's attributes (pure: no sockets,
// no clock). Istio's semantics: rules OR; within a rule `from` entries OR, `to` entries OR, and
// from × to × every `when` AND; fields within a source/operation AND; values within a field OR;
// notX = NOT(OR(values)). Strings: `abc` exact, `abc*` prefix, `*abc` suffix, `*` present.
import { net } from "../../../../core/builtins.ts";
import type { AuthzRule } from "../../../../model/proxy-config.ts";
import { stripV4Mapped } from "../../../io/source-ip.ts";

// `net.BlockList` is a getter that loads internal/blocklist: read where a policy builds one, not at load.
const { isIPv6 } = net;

/** What a rule can look at in one request. */
export interface AuthzAttributes {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly authority: string;
  header(name: string): string | undefined;
  /** The direct peer's address. */
  readonly sourceIp: string;
  /** The client's address after trusted XFF hops (Envoy's remote_ip). */
  readonly remoteIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  /** The peer's mTLS identity without `spiffe://` ("" on plaintext). */
  readonly principal: string;
  /** The TLS server name ("" without TLS). */
  readonly sni: string;
  /** Verified JWTs: `<iss>/<sub>` and their claims. */
  readonly jwts: readonly { readonly principal: string; readonly payload: Readonly<Record<string, unknown>> }[] | null;
}

export type Predicate = (a: AuthzAttributes) => boolean;

/** One compiled rule. */
export interface CompiledRule {
  readonly from: readonly Predicate[] | null;
  readonly to: readonly Predicate[] | null;
  readonly when: readonly Predicate[];
}

const TRUE: Predicate = () => true;
const FALSE: Predicate = () => false;

/** Istio's string forms. */
export function stringMatcher(v: string, ignoreCase = false): (s: string) => boolean {
  const norm = ignoreCase ? (s: string): string => s.toLowerCase() : (s: string): string => s;
  const value = norm(v);
  if (value === "*") return (s) => s.length > 0;
  if (value.startsWith("*")) {
    const suffix = value.slice(1);
    return (s) => norm(s).endsWith(suffix);
  }
  if (value.endsWith("*")) {
    const prefix = value.slice(0, -1);
    return (s) => norm(s).startsWith(prefix);
  }
  return (s) => norm(s) === value;
}

function anyOf(values: readonly string[], ignoreCase = false): (s: string) => boolean {
  const ms = values.map((v) => stringMatcher(v, ignoreCase));
  return (s) => ms.some((m) => m(s));
}

/** CIDR or single address list; an unparsable entry throws Error. */
export function ipMatcher(values: readonly string[]): (ip: string) => boolean {
  const list = new net.BlockList();
  for (const v of values) {
    const slash = v.indexOf("/");
    const addr = slash < 0 ? v : v.slice(0, slash);
    const family = isIPv6(addr) ? "ipv6" : "ipv4";
    const bits = slash < 0 ? (family === "ipv6" ? 128 : 32) : Number(v.slice(slash + 1));
    try {
      list.addSubnet(addr, bits, family);
    } catch {
      throw new Error(`bad IP or CIDR ${JSON.stringify(v)}`);
    }
  }
  // The last address and its answer: keep-alive connections ask about the same peer again and
  // again, and BlockList.check validates its input with a large regex on every call.
  let lastIp = "";
  let lastResult = false;
  return (ip) => {
    if (ip === "") return false;
    if (ip === lastIp) return lastResult;
    const v4 = stripV4Mapped(ip);
    let r: boolean;
    try {
      r = list.check(v4, isIPv6(v4) ? "ipv6" : "ipv4");
    } catch {
      r = false;
    }
    lastIp = ip;
    lastResult = r;
    return r;
  };
}

/** The namespace in a principal `td/ns/<ns>/sa/<sa>` ("" when none). */
export function principalNamespace(principal: string): string {
  const at = principal.indexOf("/ns/");
  if (at < 0) return "";
  const end = principal.indexOf("/", at + 4);
  return end < 0 ? "" : principal.slice(at + 4, end);
}

/** A claim by path (`[a, b]` for claims[a][b]) as a list of strings (arrays flattened, scalars stringified). */
export function claimValues(payload: Readonly<Record<string, unknown>>, path: readonly string[]): string[] {
  let v: unknown = payload;
  for (const p of path) v = v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[p] : undefined;
  if (typeof v === "string") return [v];
  if (typeof v === "number" || typeof v === "boolean") return [String(v)];
  if (Array.isArray(v)) return v.filter((e) => typeof e === "string" || typeof e === "number" || typeof e === "boolean").map(String);
  return [];
}

/** A field's values (OR) through `read` (one string or several), or its negation. */
function field(values: readonly string[] | undefined, negate: boolean, test: (values: readonly string[]) => Predicate): Predicate | null {
  if (values === undefined || values.length === 0) return null;
  const p = test(values);
  return negate ? (a) => !p(a) : p;
}

const jwtPrincipals = (vs: readonly string[]): Predicate => {
  const m = anyOf(vs);
  return (a) => a.jwts !== null && a.jwts.some((j) => m(j.principal));
};
const principals = (vs: readonly string[]): Predicate => {
  const m = anyOf(vs);
  return (a) => m(a.principal);
};
const namespaces = (vs: readonly string[]): Predicate => {
  const m = anyOf(vs);
  return (a) => m(principalNamespace(a.principal));
};
const claimTest = (path: readonly string[]) => (vs: readonly string[]): Predicate => {
  const m = anyOf(vs);
  return (a) => a.jwts !== null && a.jwts.some((j) => claimValues(j.payload, path).some(m));
};

function and(ps: (Predicate | null)[]): Predicate {
  const list = ps.filter((p): p is Predicate => p !== null);
  if (list.length === 0) return TRUE;
  if (list.length === 1) return list[0] as Predicate;
  return (a) => list.every((p) => p(a));
}

function pair(values: readonly string[] | undefined, notValues: readonly string[] | undefined, test: (vs: readonly string[]) => Predicate): Predicate {
  return and([field(values, false, test), field(notValues, true, test)]);
}

/** `request.auth.claims[a][b]` → ["a", "b"]; null when the key is not of that form. */
export function claimPath(key: string): string[] | null {
  const m = /^request\.auth\.claims((?:\[[^\][]+\])+)$/.exec(key);
  if (m === null) return null;
  return [...(m[1] as string).matchAll(/\[([^\][]+)\]/g)].map((x) => x[1] as string);
}

/** `serviceAccounts` values: `ns/sa`, or `sa` in the policy's namespace, against `<td>/ns/<ns>/sa/<sa>`. */
const serviceAccounts = (policyNs: string) => (vs: readonly string[]): Predicate => {
  const want = vs.map((v) => (v.includes("/") ? v : `${policyNs}/${v}`)).map((v) => {
    const slash = v.indexOf("/");
    return `/ns/${v.slice(0, slash)}/sa/${v.slice(slash + 1)}`;
  });
  return (a) => {
    const at = a.principal.indexOf("/ns/");
    return at >= 0 && want.includes(a.principal.slice(at));
  };
};
/** `trustDomains`: the principal's first segment. */
const trustDomains = (vs: readonly string[]): Predicate => {
  const m = anyOf(vs);
  return (a) => {
    const slash = a.principal.indexOf("/");
    return slash > 0 && m(a.principal.slice(0, slash));
  };
};

/**
 * One `when` condition. A key Amime cannot evaluate (`experimental.envoy.filters.*`) yields
 * `unsupported` (never for ALLOW and AUDIT, always for DENY: fail closed both ways).
 */
export function condition(key: string, values?: readonly string[], notValues?: readonly string[], policyNs = "default", unsupported: Predicate = FALSE, tcp = false): Predicate {
  if (tcp && isHttpOnlyKey(key)) return unsupported;
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header !== null) {
    const name = (header[1] as string).toLowerCase();
    return pair(values, notValues, (vs) => {
      const m = anyOf(vs);
      return (a) => {
        const v = a.header(name);
        return v !== undefined && m(v);
      };
    });
  }
  const claims = claimPath(key);
  if (claims !== null) return pair(values, notValues, claimTest(claims));
  switch (key) {
    case "source.ip": return pair(values, notValues, (vs) => { const m = ipMatcher(vs); return (a) => m(a.sourceIp); });
    case "remote.ip": return pair(values, notValues, (vs) => { const m = ipMatcher(vs); return (a) => m(a.remoteIp); });
    case "destination.ip": return pair(values, notValues, (vs) => { const m = ipMatcher(vs); return (a) => m(a.destinationIp); });
    case "destination.port": return pair(values, notValues, (vs) => { const m = anyOf(vs); return (a) => m(String(a.destinationPort)); });
    case "source.namespace": return pair(values, notValues, namespaces);
    case "source.principal": return pair(values, notValues, principals);
    case "connection.sni": return pair(values, notValues, (vs) => { const m = anyOf(vs); return (a) => m(a.sni); });
    case "request.auth.principal": return pair(values, notValues, jwtPrincipals);
    case "request.auth.audiences": return pair(values, notValues, claimTest(["aud"]));
    case "request.auth.presenter": return pair(values, notValues, claimTest(["azp"]));
    case "source.serviceAccount": return pair(values, notValues, serviceAccounts(policyNs));
    case "source.trustDomain": return pair(values, notValues, trustDomains);
    default: return unsupported;
  }
}

/** `when` keys that need an HTTP request (Istio's HTTP-only attributes). */
export function isHttpOnlyKey(key: string): boolean {
  return key.startsWith("request.");
}

/**
 * Compile one Istio rule of a policy in `policyNs` with `action`; throws Error for a bad CIDR.
 * `tcp`: the rule guards TCP connections (Istio's "Authorization for TCP traffic"): an HTTP-only
 * field (hosts, methods, paths, requestPrincipals, request.* keys, and their not* forms) can
 * never be evaluated, so it makes an ALLOW or AUDIT rule never match and is ignored (always
 * true) in a DENY rule, as istiod drops it when it builds the network RBAC filter.
 */
export function compileRule(rule: AuthzRule, policyNs = "default", action = "ALLOW", tcp = false): CompiledRule {
  const unsupported = action === "DENY" ? TRUE : FALSE;
  const httpField = (values: readonly string[] | undefined, negate: boolean, test: (vs: readonly string[]) => Predicate): Predicate | null =>
    tcp ? (values === undefined || values.length === 0 ? null : unsupported) : field(values, negate, test);
  const from = rule.from?.map(({ source: s = {} }) => and([
    field(s.principals, false, principals), field(s.notPrincipals, true, principals),
    httpField(s.requestPrincipals, false, jwtPrincipals), httpField(s.notRequestPrincipals, true, jwtPrincipals),
    field(s.namespaces, false, namespaces), field(s.notNamespaces, true, namespaces),
    field(s.serviceAccounts, false, serviceAccounts(policyNs)), field(s.notServiceAccounts, true, serviceAccounts(policyNs)),
    field(s.trustDomains, false, trustDomains), field(s.notTrustDomains, true, trustDomains),
    field(s.ipBlocks, false, (vs) => { const m = ipMatcher(vs); return (a) => m(a.sourceIp); }),
    field(s.notIpBlocks, true, (vs) => { const m = ipMatcher(vs); return (a) => m(a.sourceIp); }),
    field(s.remoteIpBlocks, false, (vs) => { const m = ipMatcher(vs); return (a) => m(a.remoteIp); }),
    field(s.notRemoteIpBlocks, true, (vs) => { const m = ipMatcher(vs); return (a) => m(a.remoteIp); }),
  ])) ?? null;
  const to = rule.to?.map(({ operation: o = {} }) => {
    const hosts = (vs: readonly string[]): Predicate => { const m = anyOf(vs, true); return (a) => m(a.authority); };
    const ports = (vs: readonly string[]): Predicate => { const m = anyOf(vs); return (a) => m(String(a.destinationPort)); };
    const methods = (vs: readonly string[]): Predicate => { const m = anyOf(vs); return (a) => m(a.method); };
    const paths = (vs: readonly string[]): Predicate => {
      const ms = vs.map((v) => (v.includes("{*") ? pathTemplate(v) : stringMatcher(v)));
      return (a) => ms.some((m) => m(a.path));
    };
    return and([
      httpField(o.hosts, false, hosts), httpField(o.notHosts, true, hosts),
      field(o.ports, false, ports), field(o.notPorts, true, ports),
      httpField(o.methods, false, methods), httpField(o.notMethods, true, methods),
      httpField(o.paths, false, paths), httpField(o.notPaths, true, paths),
    ]);
  }) ?? null;
  const when = (rule.when ?? []).map((c) => condition(c.key ?? "", c.values, c.notValues, policyNs, unsupported, tcp));
  return { from: from !== null && from.length > 0 ? from : null, to: to !== null && to.length > 0 ? to : null, when };
}

/** Istio's path templates: `{*}` one segment, `{**}` any number of segments (Envoy's uri_template). */
export function pathTemplate(v: string): (s: string) => boolean {
  const re = new RegExp(`^${v.split(/(\{\*\*\}|\{\*\})/).map((part) => part === "{**}" ? ".*" : part === "{*}" ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("")}$`);
  return (s) => re.test(s);
}

/** Does the rule match? */
export function ruleMatches(r: CompiledRule, a: AuthzAttributes): boolean {
  if (r.from !== null && !r.from.some((p) => p(a))) return false;
  if (r.to !== null && !r.to.some((p) => p(a))) return false;
  for (const p of r.when) if (!p(a)) return false;
  return true;
}
