// ext_authz (Envoy's external authorization filter as Istio builds it for CUSTOM
// AuthorizationPolicies): when a CUSTOM rule matches the request, the request is suspended while
// the provider (an HTTP or gRPC authorization service) is asked; allowed, it resumes with the
// authorizer's header edits; denied, the client gets the authorizer's status, headers and body
// (flag UAEX); a failed check (unreachable, timeout) allows when failOpen, else answers
// statusOnError (403) with flag UAEX. A request no CUSTOM rule matches never reaches the provider.
// Runs after jwt_authn (so CUSTOM rules can use request.auth.*) and before rbac. docs/security.md
import { systemClock, type Clock } from "../../../../core/clock.ts";
import type { ExtAuthzConfig, ExtAuthzProvider } from "../../../../model/proxy-config.ts";
import { CONTINUE, EXT_AUTHZ_RESPONSE_HEADERS, STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import { RF_UAEX } from "../../../request/response-flags.ts";
import { pickRequestHost } from "../../../upstream/host-choice.ts";
import { resumeChain } from "../chain.ts";
import { compileRbac, decide, type CompiledRbac } from "../rbac/decide.ts";
import { attributes } from "../rbac/rbac-filter.ts";
import type { CheckInput, CheckOutcome } from "./check.ts";
import type { GrpcAuthzClient } from "./grpc-check.ts";
import { HttpAuthzClient } from "./http-check.ts";

/** x.metadata key of the check's outcome (`ok`, `denied`, `error`, `failure_mode_allowed`). */
export const EXT_AUTHZ_METADATA = "ext_authz";

/** Envoy's ext_authz counters, as http.<listener>.ext_authz.* on the admin /stats page. */
export interface ExtAuthzStats extends Record<string, number> {
  ok: number;
  denied: number;
  error: number;
  disabled: number;
  failure_mode_allowed: number;
}

interface Compiled {
  readonly rules: CompiledRbac;
  readonly provider: ExtAuthzProvider;
  readonly client: Clients;
  readonly stats: Map<string, { owner: object; counters: ExtAuthzStats }>;
}

/** A provider's clients, shared by every config that names the same provider (created once per process). */
export interface Clients {
  http: HttpAuthzClient | null;
  /** grpc-js and the protos are loaded when the first gRPC provider is compiled (a sidecar without one never loads them). */
  grpc: Promise<GrpcAuthzClient> | null;
}

export function grpcClient(clock: Clock): Promise<GrpcAuthzClient> {
  return import("./grpc-check.ts").then((m) => new m.GrpcAuthzClient(clock));
}

const clients = new Map<string, Clients>();

/** The clients of `provider` (one set per distinct provider, shared with the TCP filter). */
export function providerClients(provider: ExtAuthzProvider): Clients {
  const key = JSON.stringify(provider);
  let client = clients.get(key);
  if (client === undefined) {
    client = { http: null, grpc: null };
    clients.set(key, client);
  }
  // Start loading gRPC now, so the first request waits as little as possible.
  if (provider.protocol === "grpc") client.grpc ??= grpcClient(systemClock);
  return client;
}
const compiled = new WeakMap<object, Compiled>();

function statsOf(x: RequestContext, c: Compiled): ExtAuthzStats {
  const s = c.stats.get(x.listenerCtx.name);
  if (s !== undefined && s.owner === x.proxy.filterStats) return s.counters;
  const counters = x.proxy.filterStats.group<ExtAuthzStats>(`http.${x.listenerCtx.name}.ext_authz`, () => ({ ok: 0, denied: 0, error: 0, disabled: 0, failure_mode_allowed: 0 }));
  c.stats.set(x.listenerCtx.name, { owner: x.proxy.filterStats, counters });
  return counters;
}

/** The compiled form of a pushed ext_authz config; throws Error for a bad one. */
export function compiledExtAuthz(config: unknown): Compiled {
  if (typeof config !== "object" || config === null) throw new Error(`ext_authz: config must be an object with "policies" and "provider"`);
  let c = compiled.get(config);
  if (c === undefined) {
    const cfg = config as ExtAuthzConfig;
    checkProvider(cfg.provider);
    const rules = compileRbac({ policies: cfg.policies, useRemoteAddress: cfg.useRemoteAddress, trustedHops: cfg.trustedHops });
    if (rules.allow.length > 0 || rules.audit.length > 0) throw new Error(`ext_authz: policies must have action DENY (a match asks the provider)`);
    c = { rules, provider: cfg.provider, client: providerClients(cfg.provider), stats: new Map() };
    compiled.set(config, c);
  }
  return c;
}

/** Throws Error for a provider config the filters cannot use. */
export function checkProvider(p: ExtAuthzProvider | undefined): void {
  const at = "ext_authz: provider";
  if (typeof p !== "object" || p === null) throw new Error(`${at} must be an object`);
  if (typeof p.name !== "string" || p.name === "") throw new Error(`${at}.name must be a non-empty string`);
  if (p.protocol !== "http" && p.protocol !== "grpc") throw new Error(`${at}.protocol must be "http" or "grpc"`);
  if (typeof p.cluster !== "string" || p.cluster === "") throw new Error(`${at}.cluster must be a non-empty string`);
  if (!(p.timeoutMs > 0)) throw new Error(`${at}.timeoutMs must be positive`);
  if (!Number.isInteger(p.statusOnError) || p.statusOnError < 100 || p.statusOnError > 599) throw new Error(`${at}.statusOnError must be an HTTP status`);
  if (typeof p.pathPrefix !== "string" || (p.pathPrefix !== "" && !p.pathPrefix.startsWith("/"))) throw new Error(`${at}.pathPrefix must be empty or start with /`);
  for (const k of ["includeRequestHeaders", "headersToUpstreamOnAllow", "headersToDownstreamOnDeny", "headersToDownstreamOnAllow", "includeAdditionalHeaders"] as const) {
    if (!Array.isArray(p[k])) throw new Error(`${at}.${k} must be a list`);
  }
}

export const extAuthzFilter: HttpFilter = {
  name: "ext_authz",
  check(config: unknown): void {
    compiledExtAuthz(config);
  },
  onRequest(x: RequestContext, config: unknown): FilterStatus {
    const c = compiledExtAuthz(config);
    // CUSTOM rules as DENY rules: "denied" means a CUSTOM rule matched, so the provider decides.
    if (decide(c.rules, attributes(x, c.rules)).allowed) {
      statsOf(x, c).disabled++;
      return CONTINUE;
    }
    if (c.provider.withBody !== undefined && !x.bodyDone) {
      waitForBody(x, c);
      return STOP;
    }
    startCheck(x, c);
    return STOP;
  },
};

/**
 * includeRequestBodyInCheck: the check starts once the body is in, or once the proxy's body buffer
 * (maxReplayBodyBytes, 64 KiB) is full. A body over maxRequestBytes (or cut by the buffer) gets 413
 * unless allowPartialMessage, which sends its first maxRequestBytes (Envoy's with_request_body).
 */
function waitForBody(x: RequestContext, c: Compiled): void {
  const wb = c.provider.withBody as NonNullable<ExtAuthzProvider["withBody"]>;
  const declared = Number(x.header("content-length") ?? "NaN");
  if (declared > wb.maxRequestBytes && !wb.allowPartialMessage) {
    x.reply(413, 0, "Payload Too Large");
    return;
  }
  x.onBodyComplete = (req) => {
    if (req.finished) return;
    if (!wb.allowPartialMessage && (!req.bodyDone || (req.bodyBuffer()?.length ?? 0) > wb.maxRequestBytes)) {
      req.reply(413, 0, "Payload Too Large");
      return;
    }
    startCheck(req, c);
  };
}

function startCheck(x: RequestContext, c: Compiled): void {
  const stats = statsOf(x, c);
  const p = c.provider;
  const cluster = x.runtime.clusters.get(p.cluster);
  const host = cluster === undefined ? null : pickRequestHost(cluster, x.authority, x.port, undefined, null);
  if (cluster === undefined || host === null) {
    settle(x, c, stats, { kind: "error", reason: `no healthy endpoint in ${p.cluster}` });
    return;
  }
  const input = checkInput(x, c);
  const clientSet = c.client;
  const pending = p.protocol === "http"
    ? (clientSet.http ??= new HttpAuthzClient(p, x.proxy.clock)).check(cluster, host, input, p.timeoutMs)
    : (clientSet.grpc ??= grpcClient(x.proxy.clock)).then((g) => g.check(host, input, p.timeoutMs, x.proxy.clock));
  pending.then((o) => settle(x, c, stats, o), (e: unknown) => settle(x, c, stats, { kind: "error", reason: String(e) }));
}

function settle(x: RequestContext, c: Compiled, stats: ExtAuthzStats, o: CheckOutcome): void {
  if (x.finished) return;
  const meta = (x.metadata ??= new Map());
  const p = c.provider;
  if (o.kind === "ok") {
    stats.ok++;
    meta.set(EXT_AUTHZ_METADATA, "ok");
    for (const [n, v, append] of o.upstreamHeaders) {
      const old = append ? x.header(n) : undefined;
      x.setHeader(n, old === undefined ? v : `${old},${v}`);
    }
    for (const n of o.removeHeaders) x.removeHeader(n);
    if (o.downstreamHeaders.length > 0) meta.set(EXT_AUTHZ_RESPONSE_HEADERS, o.downstreamHeaders);
    resumeChain(x);
    return;
  }
  // failure_mode_allow: an error, or a 5xx from the authorizer, lets the request through.
  if (p.failOpen && (o.kind === "error" || o.status >= 500)) {
    stats.failure_mode_allowed++;
    if (o.kind === "error") stats.error++;
    meta.set(EXT_AUTHZ_METADATA, "failure_mode_allowed");
    resumeChain(x);
    return;
  }
  if (o.kind === "error") {
    stats.error++;
    meta.set(EXT_AUTHZ_METADATA, "error");
    x.reply(p.statusOnError, RF_UAEX);
    return;
  }
  stats.denied++;
  meta.set(EXT_AUTHZ_METADATA, "denied");
  x.reply(o.status, RF_UAEX, o.body, o.headers);
}

function checkInput(x: RequestContext, c: Compiled): CheckInput {
  const headers = new Map<string, string>();
  for (const n of x.headerNames()) {
    const v = x.header(n);
    if (v !== undefined) headers.set(n, v);
  }
  const addrs = x.connAddrs();
  const [dstIp, dstPort] = splitHostPort(addrs.localAddress);
  const [, srcPort] = splitHostPort(addrs.remoteAddress);
  let body: Buffer | undefined;
  const wb = c.provider.withBody;
  if (wb !== undefined) {
    const b = x.bodyBuffer() ?? Buffer.alloc(0);
    body = b.length > wb.maxRequestBytes ? b.subarray(0, wb.maxRequestBytes) : b;
  }
  return {
    method: x.method,
    path: x.path,
    authority: x.authority,
    scheme: x.scheme,
    protocol: x.downstreamProtocol === "http2" ? "HTTP/2" : "HTTP/1.1",
    requestId: x.requestId,
    headers,
    body,
    packAsBytes: wb?.packAsBytes === true,
    sourceAddress: x.sourceIp,
    sourcePort: srcPort,
    sourcePrincipal: x.peerPrincipal,
    destinationAddress: dstIp,
    destinationPort: dstPort || x.listenerCtx.port,
    destinationPrincipal: x.proxy.mesh?.identity ?? "",
  };
}

function splitHostPort(s: string): [string, number] {
  const colon = s.lastIndexOf(":");
  if (colon < 0) return [s, 0];
  return [s.slice(0, colon).replace(/^\[|\]$/g, ""), Number(s.slice(colon + 1)) || 0];
}
