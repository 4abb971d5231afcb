// Host and DNS names, with Istio's rules and error texts (DNS-1123 labels; letters of either case
// are accepted as Istio does; a wildcard only as the first label).

const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;
/** Kubernetes names (namespaces, subsets): lowercase RFC 1123 labels. */
const K8S_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isWildcardDns1123Label(s: string): boolean {
  return s.length <= 63 && WILDCARD_LABEL.test(s);
}

/** Lowercase RFC 1123 label, as Kubernetes requires for namespaces. */
export function isK8sLabelName(s: string): boolean {
  return s.length <= 63 && K8S_LABEL.test(s);
}

function preconditionError(name: string): string | null {
  if (name.length > 255) return `domain name ${JSON.stringify(name)} too long (max 255)`;
  if (name.length === 0) return "empty domain name not allowed";
  return null;
}

/** Checks the dot-separated labels of `domain` (a trailing dot is allowed). */
export function dnsLabelsError(domain: string): string | null {
  const parts = domain.split(".");
  const tld = parts[parts.length - 1] ?? "";
  if (/^[-+]?\d+$/.test(tld)) return `domain name ${JSON.stringify(domain)} invalid (top level domain ${JSON.stringify(tld)} cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] ?? "";
    if (i === parts.length - 1 && label === "") return null;
    if (!isDns1123Label(label)) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(label)} invalid)`;
  }
  return null;
}

/** A fully qualified domain name without wildcards. */
export function fqdnError(fqdn: string): string | null {
  return preconditionError(fqdn) ?? dnsLabelsError(fqdn);
}

/**
 * A domain that may start with a wildcard label (`*`, `*.foo.com`, `*-foo.com`). Like Istio, the
 * error for a bad later label names only the part after the first label.
 */
export function wildcardDomainError(domain: string): string | null {
  const pre = preconditionError(domain);
  if (pre) return pre;
  const dot = domain.indexOf(".");
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDns1123Label(first)) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(first)} invalid)`;
  return dot < 0 ? null : dnsLabelsError(domain.slice(dot + 1));
}

/** `*.foo.com` and `*` are fine; `foo.*` or `f*o.com` are partial wildcards. */
export function partialWildcardError(host: string): string | null {
  if (host.includes("*") && host.length !== 1 && !host.startsWith("*.")) return `partial wildcard ${JSON.stringify(host)} not allowed`;
  return null;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIPv6(s: string): boolean {
  if (!s.includes(":") || !/^[0-9A-Fa-f:.]+(%[\w.-]+)?$/.test(s)) return false;
  const addr = s.split("%")[0] ?? "";
  let parts = addr.split(":");
  // An embedded IPv4 tail counts as two groups.
  const last = parts[parts.length - 1] ?? "";
  if (last.includes(".")) {
    if (!isIPv4(last)) return false;
    parts = [...parts.slice(0, -1), "0", "0"];
  }
  const dbl = addr.indexOf("::");
  if (dbl !== addr.lastIndexOf("::")) return false;
  const groups = parts.filter((p) => p !== "");
  if (!groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  if (dbl < 0) return parts.length === 8 && groups.length === 8;
  return groups.length < 8;
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** `a.b.c.d`, `a.b.c.d/xx`, IPv6 and IPv6/xx; Istio's ValidateIPSubnet texts. */
export function ipSubnetError(subnet: string): string | null {
  const slash = subnet.split("/");
  if (slash.length === 2) {
    const [ip = "", bits = ""] = slash;
    const max = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : -1;
    if (max < 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) return `${subnet} is not a valid CIDR block`;
    return null;
  }
  return isIP(subnet) ? null : `${subnet} is not a valid IP`;
}
