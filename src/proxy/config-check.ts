// Checks a ProxyConfig before the sidecar swaps to it, so a bad push (or a bad --config file)
// is rejected with a field path and the last good config stays in force. Structural checks and
// references only; the router compiles regexes itself (RouterError) when the runtime is built.
import { DEFAULT_CONNECTION_POOL, DEFAULT_RETRY_POLICY, type ProxyConfig } from "../model/proxy-config.ts";
import { balancerFactories } from "./upstream/balance/index.ts";
import { celProblem } from "../model/cel/compile.ts";
import { shareEqualParts } from "./equal-parts.ts";
import { internedCopy, internInPlace } from "./interned-copy.ts";

/** Invalid ProxyConfig (layer: proxy). `problems` lists `path: message` lines. */
export class ProxyConfigError extends Error {
  readonly code = "PROXY_CONFIG_INVALID";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid proxy config:\n  ${problems.join("\n  ")}`);
    this.name = "ProxyConfigError";
    this.problems = problems;
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Throws ProxyConfigError listing every problem found. On success returns a copy (equal strings
 * shared: interned-copy.ts) with the optional fields a hand-written file may leave out filled with
 * Istio's defaults (match lists, retry policy, connection pool, endpoint weight/health).
 * `adopt`: the caller gives `raw` away (parsed for this call alone): it is completed and returned
 * in place of a copy.
 */
export function checkProxyConfig(raw: unknown, adopt = false): ProxyConfig {
  const p: string[] = [];
  const input = isObj(raw) ? withDefaults(adopt ? internInPlace(raw) : internedCopy(raw)) : raw;
  if (!isObj(input)) throw new ProxyConfigError(["(root): must be an object"]);
  if (typeof input.version !== "string") p.push("version: must be a string");
  if (!isObj(input.node)) p.push("node: must be an object");
  for (const k of ["listeners", "routes", "clusters"]) if (!Array.isArray(input[k])) p.push(`${k}: must be an array`);
  if (!isObj(input.endpoints)) p.push("endpoints: must be an object (cluster name → endpoints)");
  if (p.length > 0) throw new ProxyConfigError(p);

  const routes = input.routes as unknown[];
  const routeNames = new Set<string>();
  routes.forEach((r, i) => {
    if (!isObj(r) || typeof r.name !== "string") return void p.push(`routes[${i}].name: must be a string`);
    if (routeNames.has(r.name)) p.push(`routes[${i}].name: duplicate ${JSON.stringify(r.name)}`);
    routeNames.add(r.name);
    if (!Array.isArray(r.virtualHosts)) return void p.push(`routes[${i}].virtualHosts: must be an array`);
    r.virtualHosts.forEach((vh: unknown, j: number) => {
      const at = `routes[${i}].virtualHosts[${j}]`;
      if (!isObj(vh) || !Array.isArray(vh.domains) || !Array.isArray(vh.routes)) return void p.push(`${at}: needs domains[] and routes[]`);
      vh.routes.forEach((rt: unknown, k: number) => checkRoute(rt, `${at}.routes[${k}]`, p));
    });
  });

  const listeners = input.listeners as unknown[];
  const listenerNames = new Set<string>();
  listeners.forEach((l, i) => {
    const at = `listeners[${i}]`;
    if (!isObj(l) || typeof l.name !== "string") return void p.push(`${at}.name: must be a string`);
    if (listenerNames.has(l.name)) p.push(`${at}.name: duplicate ${JSON.stringify(l.name)}`);
    listenerNames.add(l.name);
    if (typeof l.address !== "string") p.push(`${at}.address: must be a string`);
    if (typeof l.port !== "number" || !Number.isInteger(l.port) || l.port < 0 || l.port > 65535) p.push(`${at}.port: must be an integer 0..65535`);
    // Protocols: "auto" detects per connection (src/proxy/detect/): it needs the routes; tcpRoute is optional.
    if (l.protocol !== "http" && l.protocol !== "tcp" && l.protocol !== "auto") p.push(`${at}.protocol: must be "http", "tcp" or "auto"`);
    if (l.mtls !== undefined && l.mtls !== "STRICT" && l.mtls !== "PERMISSIVE" && l.mtls !== "DISABLE") p.push(`${at}.mtls: must be STRICT, PERMISSIVE or DISABLE`);
    if (l.protocol === "auto" && l.protocolDetectionTimeoutMs !== undefined && !(typeof l.protocolDetectionTimeoutMs === "number" && l.protocolDetectionTimeoutMs >= 0))
      p.push(`${at}.protocolDetectionTimeoutMs: must be a number >= 0`);
    for (const k of ["connectionLimit", "requestHeadersTimeoutMs"]) {
      const v = l[k];
      if (v !== undefined && !(typeof v === "number" && Number.isInteger(v) && v >= 0)) p.push(`${at}.${k}: must be an integer >= 0`);
    }
    if (l.protocol === "http" || l.protocol === "auto") {
      const rc = l.routeConfigName ?? l.name;
      if (typeof rc !== "string" || !routeNames.has(rc)) p.push(`${at}.routeConfigName: no route configuration named ${JSON.stringify(rc)}`);
    }
    if (l.protocol === "tcp" && !(isObj(l.tcpRoute) && Array.isArray(l.tcpRoute.clusters))) p.push(`${at}.tcpRoute: needs clusters[]`);
    if (l.tls !== undefined) checkListenerTls(l.tls, `${at}.tls`, p);
    if (l.xfcc !== undefined && !(isObj(l.xfcc) && XFCC_MODES.includes(l.xfcc.forward as string) && (l.xfcc.details === undefined || isObj(l.xfcc.details))))
      p.push(`${at}.xfcc: forward must be one of ${XFCC_MODES.join(", ")}; details an object`);
    if (l.sniRoutes !== undefined && !(Array.isArray(l.sniRoutes) && l.sniRoutes.every((r) => isObj(r) && Array.isArray(r.serverNames) && Array.isArray(r.clusters))))
      p.push(`${at}.sniRoutes: each needs serverNames[] and clusters[]`);
  });

  const clusters = input.clusters as unknown[];
  const clusterNames = new Set<string>();
  clusters.forEach((c, i) => {
    const at = `clusters[${i}]`;
    if (!isObj(c) || typeof c.name !== "string") return void p.push(`${at}.name: must be a string`);
    if (clusterNames.has(c.name)) p.push(`${at}.name: duplicate ${JSON.stringify(c.name)}`);
    clusterNames.add(c.name);
    if (!isObj(c.lb) || typeof c.lb.policy !== "string" || !(c.lb.policy in balancerFactories)) {
      p.push(`${at}.lb.policy: must be one of ${Object.keys(balancerFactories).join(", ")}`);
    }
    if (!isObj(c.connectionPool)) p.push(`${at}.connectionPool: must be an object`);
    if (c.discovery !== "eds" && c.discovery !== "original_dst") p.push(`${at}.discovery: must be "eds" or "original_dst"`);
    if (c.healthCheck !== undefined) {
      const hc = c.healthCheck;
      if (!isObj(hc) || (hc.kind !== "http" && hc.kind !== "tcp")) p.push(`${at}.healthCheck.kind: must be "http" or "tcp"`);
      else {
        for (const k of ["intervalMs", "timeoutMs", "unhealthyThreshold", "healthyThreshold"]) {
          if (typeof hc[k] !== "number" || !((hc[k] as number) >= 1)) p.push(`${at}.healthCheck.${k}: must be a number >= 1`);
        }
      }
    }
  });

  for (const [name, eps] of Object.entries(input.endpoints as Obj)) {
    if (!Array.isArray(eps)) {
      p.push(`endpoints.${name}: must be an array`);
      continue;
    }
    eps.forEach((e: unknown, i: number) => {
      if (!isObj(e) || typeof e.address !== "string" || typeof e.port !== "number") p.push(`endpoints.${name}[${i}]: needs address and port`);
    });
  }
  if (input.overload !== undefined) {
    const o = input.overload;
    const max = isObj(o) ? o.globalDownstreamMaxConnections : undefined;
    if (!isObj(o)) p.push("overload: must be an object");
    else if (max !== undefined && !(typeof max === "number" && Number.isInteger(max) && max >= 0)) p.push("overload.globalDownstreamMaxConnections: must be an integer >= 0");
  }
  checkTelemetryExpressions(input.telemetry, p);
  if (p.length > 0) throw new ProxyConfigError(p);
  const config = input as unknown as ProxyConfig;
  shareEqualParts(config);
  return config;
}

function checkRoute(rt: unknown, at: string, p: string[]): void {
  if (!isObj(rt)) return void p.push(`${at}: must be an object`);
  if (typeof rt.name !== "string") p.push(`${at}.name: must be a string`);
  if (!isObj(rt.match)) p.push(`${at}.match: must be an object`);
  const a = rt.action;
  if (!isObj(a)) return void p.push(`${at}.action: must be an object`);
  if (a.kind === "forward") {
    if (!Array.isArray(a.clusters) || a.clusters.length === 0) p.push(`${at}.action.clusters: needs at least one cluster`);
    if (typeof a.timeoutMs !== "number") p.push(`${at}.action.timeoutMs: must be a number`);
    if (!isObj(a.retry)) p.push(`${at}.action.retry: must be an object`);
    if (!Array.isArray(a.mirrors)) p.push(`${at}.action.mirrors: must be an array`);
  } else if (a.kind === "direct") {
    if (typeof a.status !== "number") p.push(`${at}.action.status: must be a number`);
  } else if (a.kind === "redirect") {
    if (typeof a.code !== "number") p.push(`${at}.action.code: must be a number`);
  } else {
    p.push(`${at}.action.kind: must be forward, redirect or direct`);
  }
}

const HEALTH_CHECK_DEFAULTS = { intervalMs: 10_000, timeoutMs: 1_000, unhealthyThreshold: 3, healthyThreshold: 1 };

/** `v` is not an object holding every key of `defaults`. */
function lacksAny(v: unknown, defaults: object): boolean {
  if (!isObj(v)) return true;
  for (const k in defaults) if (v[k] === undefined) return true;
  return false;
}

/**
 * Fill what translation always writes but a person may omit. Runs before the checks. Idempotent: a
 * config completed once is left as it is (a delta push's unchanged resources are the running
 * config's objects, shared by the next one).
 */
function withDefaults(c: Obj): Obj {
  c.version ??= "static";
  c.endpoints ??= {};
  c.routes ??= [];
  c.clusters ??= [];
  if (isObj(c.node)) {
    const n = c.node;
    n.kind ??= "sidecar";
    n.labels ??= {};
    n.trustDomain ??= "cluster.local";
    n.ip ??= "127.0.0.1";
  }
  for (const l of arr(c.listeners)) if (isObj(l)) l.protocol ??= "http";
  for (const rc of arr(c.routes)) {
    if (!isObj(rc)) continue;
    for (const vh of arr(rc.virtualHosts)) {
      if (!isObj(vh)) continue;
      for (const r of arr(vh.routes)) {
        if (!isObj(r)) continue;
        r.match ??= {};
        if (isObj(r.match)) {
          r.match.headers ??= [];
          r.match.queryParams ??= [];
          r.match.ignoreUriCase ??= false;
          for (const h of arr(r.match.headers)) if (isObj(h)) h.invert ??= false;
        }
        r.origin ??= { resource: "static", ruleIndex: -1, matchIndex: -1 };
        const a = r.action;
        if (isObj(a) && a.kind === "forward") {
          a.timeoutMs ??= 0;
          a.mirrors ??= [];
          if (lacksAny(a.retry, DEFAULT_RETRY_POLICY)) a.retry = isObj(a.retry) ? { ...DEFAULT_RETRY_POLICY, ...a.retry } : { ...DEFAULT_RETRY_POLICY };
          for (const m of arr(a.mirrors)) if (isObj(m)) m.percentage ??= 100;
          for (const w of arr(a.clusters)) if (isObj(w)) w.weight ??= 1;
        }
        if (isObj(a) && a.kind === "redirect") a.code ??= 301;
      }
    }
  }
  for (const cl of arr(c.clusters)) {
    if (!isObj(cl)) continue;
    cl.direction ??= "outbound";
    cl.discovery ??= "eds";
    cl.protocol ??= "http1";
    cl.lb ??= { policy: "LEAST_REQUEST" };
    if (lacksAny(cl.connectionPool, DEFAULT_CONNECTION_POOL)) cl.connectionPool = isObj(cl.connectionPool) ? { ...DEFAULT_CONNECTION_POOL, ...cl.connectionPool } : { ...DEFAULT_CONNECTION_POOL };
    // Same defaults as the amime.dev/health-check annotation.
    if (isObj(cl.healthCheck) && lacksAny(cl.healthCheck, HEALTH_CHECK_DEFAULTS)) cl.healthCheck = { ...HEALTH_CHECK_DEFAULTS, ...cl.healthCheck };
  }
  if (isObj(c.endpoints)) {
    for (const eps of Object.values(c.endpoints)) {
      for (const e of arr(eps)) {
        if (!isObj(e)) continue;
        e.weight ??= 1;
        e.labels ??= {};
        e.healthy ??= true;
      }
    }
  }
  return c;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

const DOWNSTREAM_TLS_MODES = new Set(["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL", "ISTIO_MUTUAL"]);

/** A listener's TLS: every server names its certificate (files or credentialName), never both. */
const XFCC_MODES = ["SANITIZE", "FORWARD_ONLY", "APPEND_FORWARD", "SANITIZE_SET", "ALWAYS_FORWARD_ONLY"];

function checkListenerTls(tls: unknown, at: string, p: string[]): void {
  if (!isObj(tls) || !Array.isArray(tls.servers) || tls.servers.length === 0) return void p.push(`${at}.servers: needs at least one server`);
  tls.servers.forEach((s: unknown, i: number) => {
    const sat = `${at}.servers[${i}]`;
    if (!isObj(s)) return void p.push(`${sat}: must be an object`);
    if (!Array.isArray(s.hosts)) p.push(`${sat}.hosts: must be an array`);
    if (typeof s.mode !== "string" || !DOWNSTREAM_TLS_MODES.has(s.mode)) p.push(`${sat}.mode: must be SIMPLE, MUTUAL, OPTIONAL_MUTUAL or ISTIO_MUTUAL`);
    if (s.mode === "ISTIO_MUTUAL") {
      // The proxy's workload certificate: nothing else may be named.
      for (const f of ["credentialName", "serverCertificate", "privateKey", "caCertificates", "caCrl"]) if (s[f] !== undefined) p.push(`${sat}.${f}: ISTIO_MUTUAL uses the workload certificate, not ${f}`);
      return;
    }
    const named = typeof s.credentialName === "string" && s.credentialName !== "";
    const files = typeof s.serverCertificate === "string" && typeof s.privateKey === "string";
    if (named && (s.serverCertificate !== undefined || s.privateKey !== undefined || s.caCertificates !== undefined)) p.push(`${sat}: credentialName cannot be combined with certificate files`);
    else if (!named && !files) p.push(`${sat}: needs credentialName, or serverCertificate and privateKey`);
    else if (!named && s.mode !== "SIMPLE" && typeof s.caCertificates !== "string") p.push(`${sat}.caCertificates: ${String(s.mode)} needs a CA to verify client certificates`);
  });
}

/** Telemetry expressions (metric tag values, the access-log filter) must be ones the sidecar evaluates. */
function checkTelemetryExpressions(t: unknown, p: string[]): void {
  if (!isObj(t)) return;
  const overrides = isObj(t.metrics) && Array.isArray(t.metrics.overrides) ? t.metrics.overrides : [];
  overrides.forEach((o: unknown, i: number) => {
    const tags = isObj(o) && isObj(o.tags) ? o.tags : {};
    for (const [name, tag] of Object.entries(tags)) {
      if (!isObj(tag) || tag.remove === true) continue;
      const problem = typeof tag.value === "string" ? celProblem(tag.value) : "must be a string";
      if (problem !== "") p.push(`telemetry.metrics.overrides[${i}].tags.${name}.value: ${problem}`);
    }
  });
  const filter = isObj(t.accessLog) ? t.accessLog.filter : undefined;
  if (filter !== undefined) {
    const problem = typeof filter === "string" ? celProblem(filter, "bool") : "must be a string";
    if (problem !== "") p.push(`telemetry.accessLog.filter: ${problem}`);
  }
}
