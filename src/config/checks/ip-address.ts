// IP addresses and CIDR blocks ("10.0.0.1", "10.0.0.0/8", "2001:db8::/32") as Istio accepts them in
// AuthorizationPolicy ipBlocks and `when` conditions, with the texts of Istio's security.ValidateIPs.
import { isIP, isIPv4, isIPv6 } from "./host.ts";

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
