// IP addresses and CIDR blocks ("10.0.0.1", "10.0.0.0/8", "2001:db8::/32") as Istio accepts them in
// AuthorizationPolicy ipBlocks and `when` conditions. Pure: IPv6 parsing leans on the WHATWG URL
// parser (a global), never node:net.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIPv6(s: string): boolean {
  if (!s.includes(":") || /[^0-9A-Fa-f:.]/.test(s)) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** Why `s` is not an IP address or CIDR block, or null when it is one. */
export function ipOrCidrProblem(s: string): string | null {
  const slash = s.indexOf("/");
  if (slash < 0) return isIP(s) ? null : `bad IP address (${s})`;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const max = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : -1;
  if (max < 0) return `bad CIDR range (${s}): ${JSON.stringify(addr)} is not an IP address`;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `bad CIDR range (${s}): prefix length must be 0..${max}`;
  return null;
}
