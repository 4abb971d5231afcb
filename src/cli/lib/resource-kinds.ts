// The kinds `amime get` knows, with kubectl's names for them: plural, singular, short names and
// the fully qualified `virtualservice.networking.istio.io` form used in apply/delete output and
// `-o name`. Each kind also says which columns its table shows (resource-columns.ts).

export interface KindInfo {
  kind: string;
  /** API group; "" for core Kubernetes kinds (Service). */
  group: string;
  plural: string;
  /** Short names (`vs`, `dr`…). */
  short: readonly string[];
}

export const GET_KINDS: readonly KindInfo[] = [
  { kind: "VirtualService", group: "networking.istio.io", plural: "virtualservices", short: ["vs"] },
  { kind: "DestinationRule", group: "networking.istio.io", plural: "destinationrules", short: ["dr"] },
  { kind: "Gateway", group: "networking.istio.io", plural: "gateways", short: ["gw"] },
  { kind: "ServiceEntry", group: "networking.istio.io", plural: "serviceentries", short: ["se"] },
  { kind: "Sidecar", group: "networking.istio.io", plural: "sidecars", short: [] },
  { kind: "WorkloadEntry", group: "networking.istio.io", plural: "workloadentries", short: ["we"] },
  { kind: "PeerAuthentication", group: "security.istio.io", plural: "peerauthentications", short: ["pa"] },
  { kind: "RequestAuthentication", group: "security.istio.io", plural: "requestauthentications", short: ["ra"] },
  { kind: "AuthorizationPolicy", group: "security.istio.io", plural: "authorizationpolicies", short: ["ap"] },
  { kind: "Telemetry", group: "telemetry.istio.io", plural: "telemetries", short: ["telemetry"] },
  { kind: "EnvoyFilter", group: "networking.istio.io", plural: "envoyfilters", short: [] },
  { kind: "WasmPlugin", group: "extensions.istio.io", plural: "wasmplugins", short: [] },
  { kind: "ProxyConfig", group: "networking.istio.io", plural: "proxyconfigs", short: [] },
  { kind: "Service", group: "", plural: "services", short: ["svc"] },
  { kind: "Workload", group: "amime.dev", plural: "workloads", short: ["wl"] },
  { kind: "RateLimit", group: "amime.dev", plural: "ratelimits", short: ["rl"] },
];

/** Every name `amime get` accepts for a kind, for the unknown-kind error. */
export function kindNames(): string[] {
  return [...GET_KINDS.map((k) => k.short.length > 0 ? `${k.plural} (${k.short.join(", ")})` : k.plural), "all"];
}

/**
 * A kind by any of kubectl's spellings: plural, singular, short name, Kind, or qualified
 * (`virtualservices.networking.istio.io`, `vs.networking.istio.io`). Case-insensitive.
 */
export function lookupKind(word: string): KindInfo | undefined {
  const w = word.toLowerCase();
  for (const k of GET_KINDS) {
    const names = [k.plural, k.kind.toLowerCase(), ...k.short];
    const qualified = k.group ? names.map((n) => `${n}.${k.group}`) : [];
    if (names.includes(w) || qualified.includes(w)) return k;
  }
  return undefined;
}

export function lookupKindByName(kind: string): KindInfo | undefined {
  return GET_KINDS.find((k) => k.kind === kind);
}

/** `virtualservice.networking.istio.io`, `service` — kubectl's resource prefix. */
export function qualifiedKind(kind: string, group?: string): string {
  const g = group ?? lookupKindByName(kind)?.group ?? "";
  return g ? `${kind.toLowerCase()}.${g}` : kind.toLowerCase();
}

/** `virtualservices.networking.istio.io` — as kubectl names a kind in NotFound errors. */
export function qualifiedPlural(k: KindInfo): string {
  return k.group ? `${k.plural}.${k.group}` : k.plural;
}

/** `VirtualService default/reviews` (wire.ts ApplyResult.changes[].resource) → its parts. */
export function parseResourceId(id: string): { kind: string; namespace: string; name: string } | undefined {
  const m = /^(\S+) (?:([^/\s]+)\/)?(\S+)$/.exec(id);
  if (!m) return undefined;
  return { kind: m[1] as string, namespace: m[2] ?? "default", name: m[3] as string };
}
