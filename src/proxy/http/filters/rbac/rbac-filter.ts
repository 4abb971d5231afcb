// rbac (Envoy's RBAC filters as Istio builds them from AuthorizationPolicy): a denied request
// gets 403 `RBAC: access denied`; the decision (which policy, which rule) and any dry-run
// (shadow) result go to x.metadata under RBAC_METADATA; counters as Envoy's rbac.* stats.
// Runs after jwt_authn, so requestPrincipals and request.auth.* see the verified tokens.
import type { RbacConfig } from "../../../../model/proxy-config.ts";
import { CONTINUE, STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import { JWT_METADATA } from "../jwt-authn/jwt-filter.ts";
import type { VerifiedJwt } from "../jwt-authn/verify.ts";
import { auditedLike, compileRbac, decide, decideShadow, type CompiledRbac, type Verdict } from "./decide.ts";
import type { AuthzAttributes } from "./matcher.ts";

export const RBAC_METADATA = "rbac";

/** What x.metadata `rbac` holds. */
export interface RbacOutcome {
  readonly verdict: Verdict;
  readonly shadow: Verdict | null;
  readonly audited: readonly string[];
}

/** Envoy's http.<listener>.rbac.* counters (admin /stats), process-wide per listener. */
export interface RbacStats extends Record<string, number> {
  allowed: number;
  denied: number;
  shadow_allowed: number;
  shadow_denied: number;
  logged: number;
}

interface Compiled {
  readonly rbac: CompiledRbac;
  readonly stats: Map<string, { owner: object; counters: RbacStats }>;
  /** The last request's outcome: outcomes are immutable, so the next request with the same one shares it. */
  last: RbacOutcome | null;
}

function statsOf(x: RequestContext, c: Compiled): RbacStats {
  // Cached per listener; re-looked-up if another proxy (a test's) runs the same config object.
  const s = c.stats.get(x.listenerCtx.name);
  if (s !== undefined && s.owner === x.proxy.filterStats) return s.counters;
  const counters = x.proxy.filterStats.group<RbacStats>(`http.${x.listenerCtx.name}.rbac`, () => ({ allowed: 0, denied: 0, shadow_allowed: 0, shadow_denied: 0, logged: 0 }));
  c.stats.set(x.listenerCtx.name, { owner: x.proxy.filterStats, counters });
  return counters;
}

const compiled = new WeakMap<object, Compiled>();

/** The compiled form of a pushed rbac config (and its counters); throws Error for a bad one. */
export function compiledRbac(config: unknown): Compiled {
  if (typeof config !== "object" || config === null) throw new Error(`rbac: config must be an object with "policies"`);
  let c = compiled.get(config);
  if (c === undefined) {
    c = { rbac: compileRbac(config as RbacConfig), stats: new Map(), last: null };
    compiled.set(config, c);
  }
  return c;
}

export const rbacFilter: HttpFilter = {
  name: "rbac",
  check(config: unknown): void {
    compiledRbac(config);
  },
  onRequest(x: RequestContext, config: unknown): FilterStatus {
    const c = compiledRbac(config);
    const rbac = c.rbac;
    const stats = statsOf(x, c);
    // Decided synchronously: one attributes object serves every request in turn.
    const a = SCRATCH.reset(x, rbac);
    const verdict = decide(rbac, a);
    const shadow = decideShadow(rbac, a);
    let last = c.last;
    const audit = auditedLike(rbac, a, last?.audited);
    a.reset(null, rbac);
    if (audit.length > 0) stats.logged++;
    if (shadow !== null) {
      if (shadow.allowed) stats.shadow_allowed++;
      else stats.shadow_denied++;
    }
    if (last === null || last.verdict !== verdict || last.shadow !== shadow || last.audited !== audit) {
      last = c.last = Object.freeze({ verdict, shadow, audited: audit } satisfies RbacOutcome);
    }
    (x.metadata ??= new Map()).set(RBAC_METADATA, last);
    if (verdict.allowed) {
      stats.allowed++;
      return CONTINUE;
    }
    stats.denied++;
    x.reply(403, 0, "RBAC: access denied");
    return STOP;
  },
};

/** The request as the matcher sees it. */
export function attributes(x: RequestContext, c: CompiledRbac): AuthzAttributes {
  return new RequestAttributes(x, c);
}

/**
 * The matcher's view of a request, computed field by field on first use: most policies read a few
 * fields (a path, a principal), so the connection's addresses, the XFF walk and the query split are
 * paid only by the rules that need them.
 */
class RequestAttributes implements AuthzAttributes {
  private x: RequestContext;
  private c: CompiledRbac;
  private pathNoQuery: string | null = null;
  private remote: string | null = null;
  private destIp: string | null = null;

  constructor(x: RequestContext | null, c: CompiledRbac) {
    this.x = x as RequestContext;
    this.c = c;
  }

  /** Point at another request (null: none, so no request is kept alive by the scratch object). */
  reset(x: RequestContext | null, c: CompiledRbac): this {
    this.x = x as RequestContext;
    this.c = c;
    this.pathNoQuery = null;
    this.remote = null;
    this.destIp = null;
    return this;
  }
  get method(): string {
    return this.x.method;
  }
  get path(): string {
    if (this.pathNoQuery === null) {
      const p = this.x.path;
      const q = p.indexOf("?");
      this.pathNoQuery = q < 0 ? p : p.slice(0, q);
    }
    return this.pathNoQuery;
  }
  get authority(): string {
    return this.x.authority;
  }
  header(name: string): string | undefined {
    return this.x.header(name);
  }
  get sourceIp(): string {
    return this.x.sourceIp;
  }
  get remoteIp(): string {
    return (this.remote ??= remoteIp(this.x.sourceIp, this.x.header("x-forwarded-for"), this.c.useRemoteAddress, this.c.trustedHops));
  }
  get destinationIp(): string {
    if (this.destIp === null) {
      const local = this.x.connAddrs().localAddress;
      const colon = local.lastIndexOf(":");
      this.destIp = colon < 0 ? local : local.slice(0, colon).replace(/^\[|\]$/g, "");
    }
    return this.destIp;
  }
  get destinationPort(): number {
    return this.x.listenerCtx.port;
  }
  get principal(): string {
    const peer = this.x.peerPrincipal;
    return peer.startsWith("spiffe://") ? peer.slice(9) : peer;
  }
  get sni(): string {
    return "";
  }
  get jwts(): AuthzAttributes["jwts"] {
    return (this.x.metadata?.get(JWT_METADATA) as VerifiedJwt[] | undefined) ?? null;
  }
}

const SCRATCH = new RequestAttributes(null, compileRbac({ policies: [], useRemoteAddress: false, trustedHops: 0 }));

/** Envoy's trusted client address from X-Forwarded-For (see RbacConfig). */
export function remoteIp(peer: string, xff: string | undefined, useRemoteAddress: boolean, hops: number): string {
  if (xff === undefined || xff === "") return peer;
  if (useRemoteAddress && hops === 0) return peer;
  const list = xff.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const fromRight = useRemoteAddress ? hops : hops + 1;
  const v = list[list.length - fromRight];
  return v ?? peer;
}
