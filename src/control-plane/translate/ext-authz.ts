// CUSTOM AuthorizationPolicy → the `ext_authz` HTTP filter (Istio's builder/extauthz.go): the CUSTOM
// policies selecting a proxy, as DENY-action rules (a match means "ask the provider"), and their
// MeshConfig extension provider (envoyExtAuthzHttp / envoyExtAuthzGrpc) resolved to the service's
// outbound cluster. As Istio, one provider per workload: CUSTOM policies naming an unknown or
// unusable provider, or naming a second provider, become DENY policies named
// `…-deny-due-to-bad-CUSTOM-action` in the rbac filter, so a broken setup fails closed.
import { parseDurationNanos } from "../../config/checks/duration.ts";
import type { ExtAuthzGrpcProvider, ExtAuthzHttpProvider, ExtensionProvider } from "../../model/specs/mesh-config.ts";
import type { ExtAuthzConfig, ExtAuthzProvider, RbacPolicy } from "../../model/proxy-config.ts";
import { clusterKey } from "../../model/proxy-config.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import { cmp, type ProxyInput } from "./common.ts";
import { policySelects } from "./policy-selection.ts";

/** Istio sets the check's timeout to 600 s when the provider sets none. */
export const DEFAULT_EXT_AUTHZ_TIMEOUT_MS = 600_000;
/** Envoy's status_on_error default. */
const DEFAULT_STATUS_ON_ERROR = 403;

export interface CustomPolicies {
  /** The ext_authz filter's config, when a usable provider decides. */
  extAuthz?: ExtAuthzConfig;
  /** Fail-closed DENY policies for the rbac filter (bad or extra providers). */
  deny: RbacPolicy[];
}

/** The CUSTOM policies that select `node`, as the ext_authz config and fail-closed denials. */
export function customPolicies(snapshot: Snapshot, node: ProxyInput): CustomPolicies {
  const byProvider = new Map<string, RbacPolicy[]>();
  for (const entry of snapshot.authorizationPolicies) {
    if (entry.spec.action !== "CUSTOM" || !policySelects(snapshot, entry, node)) continue;
    const provider = entry.spec.provider?.name ?? "";
    const list = byProvider.get(provider) ?? [];
    list.push({
      name: `ns[${entry.namespace}]-policy[${entry.name}]`,
      namespace: entry.namespace,
      action: "DENY",
      dryRun: false,
      rules: entry.spec.rules ?? [],
    });
    byProvider.set(provider, list);
  }
  const out: CustomPolicies = { deny: [] };
  if (byProvider.size === 0) return out;
  const names = [...byProvider.keys()].sort(cmp);
  const resolved = names.length === 1 ? resolveProvider(snapshot, names[0] as string) : null;
  if (resolved === null) {
    // Istio: "only 1 provider can be used per workload", or a bad provider: deny what the rules match.
    for (const name of names) {
      for (const p of byProvider.get(name) as RbacPolicy[]) out.deny.push({ ...p, name: `${p.name}-deny-due-to-bad-CUSTOM-action` });
    }
    return out;
  }
  const policies = (byProvider.get(names[0] as string) as RbacPolicy[]).map((p) => ({ ...p, name: `istio-ext-authz-${resolved.name}-${p.name}` }));
  policies.sort((a, b) => cmp(a.name, b.name));
  const gateway = node.kind === "gateway";
  const topology = snapshot.mesh.config?.defaultConfig?.gatewayTopology as { numTrustedProxies?: unknown } | undefined;
  const hops = gateway && typeof topology?.numTrustedProxies === "number" ? topology.numTrustedProxies : 0;
  out.extAuthz = { policies, useRemoteAddress: gateway, trustedHops: hops, provider: resolved };
  return out;
}

/** The named extension provider as the filter needs it; null when it is unknown, not ext_authz, or its service is not in the registry. */
export function resolveProvider(snapshot: Snapshot, name: string): ExtAuthzProvider | null {
  const p = (snapshot.mesh.config?.extensionProviders ?? []).find((e: ExtensionProvider) => e.name === name);
  if (p === undefined) return null;
  const http = p.envoyExtAuthzHttp;
  const grpc = p.envoyExtAuthzGrpc;
  const body: ExtAuthzHttpProvider | ExtAuthzGrpcProvider | undefined = http ?? grpc;
  if (body === undefined) return null;
  const port = Number(body.port);
  const host = serviceHost(snapshot, body.service ?? "", port);
  if (host === null) return null;
  const nanos = body.timeout !== undefined ? parseDurationNanos(body.timeout) : null;
  const status = Number(body.statusOnError);
  const wb = body.includeRequestBodyInCheck;
  const out: ExtAuthzProvider = {
    name,
    protocol: http !== undefined ? "http" : "grpc",
    cluster: clusterKey("outbound", port, "", host),
    authority: `${host}:${port}`,
    timeoutMs: nanos !== null && nanos > 0n ? Number(nanos / 1_000_000n) || 1 : DEFAULT_EXT_AUTHZ_TIMEOUT_MS,
    failOpen: body.failOpen === true,
    statusOnError: body.statusOnError !== undefined && Number.isInteger(status) && status >= 100 && status <= 599 ? status : DEFAULT_STATUS_ON_ERROR,
    pathPrefix: http?.pathPrefix ?? "",
    includeRequestHeaders: [...(http?.includeRequestHeadersInCheck ?? (http as { includeHeadersInCheck?: string[] } | undefined)?.includeHeadersInCheck ?? [])],
    includeAdditionalHeaders: Object.entries(http?.includeAdditionalHeadersInCheck ?? {}).map(([n, v]) => ({ name: n.toLowerCase(), value: String(v) })),
    headersToUpstreamOnAllow: [...(http?.headersToUpstreamOnAllow ?? [])],
    headersToDownstreamOnDeny: [...(http?.headersToDownstreamOnDeny ?? [])],
    headersToDownstreamOnAllow: [...(http?.headersToDownstreamOnAllow ?? [])],
  };
  if (wb !== undefined && wb !== null) {
    // Envoy's BufferSettings.max_request_bytes is required; Istio passes 0 through when unset.
    out.withBody = { maxRequestBytes: Math.max(0, Number(wb.maxRequestBytes) || 0), allowPartialMessage: wb.allowPartialMessage === true, packAsBytes: wb.packAsBytes === true };
  }
  return out;
}

/**
 * The registry host of a provider's `service` (`host`, `namespace/host`, or a short name in the
 * root namespace is not allowed: Istio looks the host up among services with that port).
 */
function serviceHost(snapshot: Snapshot, service: string, port: number): string | null {
  if (service === "" || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  const slash = service.indexOf("/");
  const ns = slash < 0 ? undefined : service.slice(0, slash);
  const host = slash < 0 ? service : service.slice(slash + 1);
  const s = snapshot.services.find((x) => x.host === host && (ns === undefined || x.namespace === ns) && x.ports.some((p) => p.port === port));
  return s === undefined ? null : s.host;
}
