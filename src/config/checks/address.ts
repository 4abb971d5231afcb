// Endpoint addresses: IPs, FQDNs, Unix domain sockets (`unix:///path`, `unix://@abstract`), and
// the `namespace/host` form of Gateway and Sidecar hosts.
import { fqdnError, isDns1123Label, isIP, partialWildcardError, wildcardDomainError } from "./host.ts";

export const UNIX_PREFIX = "unix://";

/**
 * Istio's ValidateUnixAddress with the CRD's texts first ("UDS may not be a dir", "UDS must be
 * an absolute path or abstract socket"), then Istio's Go text in parentheses.
 */
export function unixAddressError(addr: string): string | null {
  if (addr === "") return "unix address must not be empty";
  if (addr.startsWith("@")) return null;
  if (addr.endsWith("/")) return `UDS may not be a dir (${addr} is not an absolute path to a file)`;
  if (!addr.startsWith("/")) return `UDS must be an absolute path or abstract socket (${addr} is not an absolute path to a file)`;
  return null;
}

/** `ns/host` (or a bare host at gateways, the old style). Returns every problem found. */
export function namespacedHostErrors(hostname: string, isGateway: boolean): string[] {
  const slash = hostname.indexOf("/");
  if (slash < 0) {
    if (isGateway) return hostPartErrors(hostname, true);
    return ["host must be of form namespace/dnsName"];
  }
  const ns = hostname.slice(0, slash);
  const name = hostname.slice(slash + 1);
  const out: string[] = [];
  if (ns === "" || name === "") out.push("config namespace and dnsName in host entry cannot be empty");
  const allowed = isGateway ? ["*", "."] : ["*", ".", "~"];
  if (!allowed.includes(ns) && !isDns1123Label(ns)) out.push(`invalid namespace value ${JSON.stringify(ns)} in ${isGateway ? "gateway" : "sidecar"}`);
  return [...out, ...hostPartErrors(name, isGateway)];
}

function hostPartErrors(hostname: string, isGateway: boolean): string[] {
  const out: string[] = [];
  if (hostname !== "*" && !hostname.includes(".")) out.push("short names (non FQDN) are not allowed");
  const err = wildcardDomainError(hostname);
  // Gateways also accept an IP address as the host.
  if (err && !(isGateway && isIP(hostname))) out.push(err);
  const partial = partialWildcardError(hostname);
  if (partial) out.push(partial);
  return out;
}

/** An endpoint address that may be an IP or an FQDN. */
export function ipOrFqdnError(addr: string): string | null {
  if (isIP(addr) || fqdnError(addr) === null) return null;
  return `endpoint address ${JSON.stringify(addr)} is not a valid FQDN or an IP address`;
}
