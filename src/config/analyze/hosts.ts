// Host names as Istio reads them: a short name is relative to the namespace of the resource that
// writes it, FQDNs stand as written, and `*.foo.com` is a wildcard covering every name under foo.com.

export const DEFAULT_DOMAIN_SUFFIX = "cluster.local";

/**
 * The FQDN a host written in namespace `ns` stands for: `reviews` → `reviews.<ns>.svc.<suffix>`.
 * Wildcards and names with dots are returned as written (lowercased); see `expandNamespaced` for
 * `reviews.default`.
 */
export function resolveHost(host: string, ns: string, suffix: string = DEFAULT_DOMAIN_SUFFIX): string {
  const h = host.trim().toLowerCase();
  if (h === "*" || h.includes(".") || isIpAddress(h)) return h;
  return `${h}.${ns}.svc.${suffix}`;
}

/**
 * `reviews.default` → `reviews.default.svc.<suffix>`: what Kubernetes DNS does for a two-label name.
 * Istio itself keeps such names as written, so the analyzer only uses this form when it names a
 * Service that exists (see MeshIndex.findService).
 */
export function expandNamespaced(host: string, suffix: string = DEFAULT_DOMAIN_SUFFIX): string | undefined {
  const parts = host.toLowerCase().split(".");
  if (parts.length !== 2 || parts.some((p) => p === "" || p === "*")) return undefined;
  return `${parts[0]}.${parts[1]}.svc.${suffix}`;
}

export function isWildcard(host: string): boolean {
  return host.startsWith("*");
}

/** Whether `pattern` (possibly a wildcard) covers the concrete or wildcard `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern === host) return true;
  if (!pattern.startsWith("*.")) return false;
  const suffix = pattern.slice(1); // ".foo.com"
  if (host.startsWith("*.")) return host.slice(1).endsWith(suffix) && host.length > pattern.length;
  return host.endsWith(suffix) && host.length > suffix.length;
}

/** Whether two host patterns can name a common host (used for conflicts between wildcards). */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** `<name>.<ns>.svc.<suffix>` → its short name and namespace; undefined for other hosts. */
export function splitServiceHost(fqdn: string, suffix: string = DEFAULT_DOMAIN_SUFFIX): { name: string; namespace: string } | undefined {
  const tail = `.svc.${suffix}`;
  if (!fqdn.endsWith(tail)) return undefined;
  const parts = fqdn.slice(0, -tail.length).split(".");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { name: parts[0], namespace: parts[1] };
}

function isIpAddress(h: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(":");
}

/**
 * Whether a resource exported with `exportTo` from namespace `own` is visible in namespace `from`.
 * Empty or absent exportTo means everywhere, "." its own namespace, "~" nowhere, "*" everywhere.
 */
export function visibleFrom(exportTo: readonly string[], own: string, from: string): boolean {
  if (exportTo.length === 0) return true;
  for (const e of exportTo) {
    if (e === "*") return true;
    if (e === "." && own === from) return true;
    if (e === from) return true;
  }
  return false;
}
