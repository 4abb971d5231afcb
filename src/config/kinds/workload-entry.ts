// WorkloadEntry (networking.istio.io): schema validation matching Istio's validator. The endpoint
// checks are shared with ServiceEntry.endpoints.
import { ipOrFqdnError, unixAddressError, UNIX_PREFIX } from "../checks/address.ts";
import { checkKnownFields } from "../checks/fields.ts";
import { isIP } from "../checks/host.ts";
import { portNameError } from "../checks/protocol.ts";
import { checkLabels } from "../checks/selector.ts";
import { readInt, readObject, readString, UINT32 } from "../checks/shape.ts";
import type { FieldPath, JsonObject, Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_VERSIONS, type KindDefinition } from "./kind.ts";

export const WORKLOAD_ENTRY_FIELDS = ["address", "ports", "labels", "network", "locality", "weight", "serviceAccount"] as const;

/** The CRD's text ("port must be between 1-65535"); VirtualService uses Istio's Go text instead. */
export function endpointPortError(n: number): string | null {
  return n >= 1 && n <= 65535 ? null : `port must be between 1-65535, got ${n}`;
}

export interface EndpointOptions {
  /** Port names the owning ServiceEntry defines (undefined for a stand-alone WorkloadEntry). */
  servicePorts?: ReadonlySet<string>;
  /** STATIC ServiceEntry endpoints must be IPs; stand-alone WorkloadEntries may use FQDNs. */
  allowFqdn: boolean;
}

export function checkWorkloadEndpoint(v: Validator, path: FieldPath, we: JsonObject, opts: EndpointOptions): void {
  checkKnownFields(v, path, we, WORKLOAD_ENTRY_FIELDS);
  const addr = readString(v, [...path, "address"], we.address) ?? "";
  const network = readString(v, [...path, "network"], we.network) ?? "";
  for (const f of ["locality", "serviceAccount"] as const) readString(v, [...path, f], we[f]);
  readInt(v, [...path, "weight"], we.weight, UINT32);
  const ports = readObject(v, [...path, "ports"], we.ports) ?? {};
  if (addr === "") {
    if (network === "") {
      v.error([...path, "address"], "Address is required (unless network is set)");
      return;
    }
    v.warn([...path, "address"], `address is unset with network ${JSON.stringify(network)}`);
  }
  if (addr.startsWith(UNIX_PREFIX)) {
    const err = unixAddressError(addr.slice(UNIX_PREFIX.length));
    if (err) v.error([...path, "address"], err);
    if (Object.keys(ports).length > 0) v.error([...path, "ports"], `UDS may not include ports (unix endpoint ${addr} must not include ports)`);
  } else if (addr !== "" && !isIP(addr)) {
    if (!opts.allowFqdn) v.error([...path, "address"], `endpoint address ${JSON.stringify(addr)} is not a valid IP address`);
    else {
      const err = ipOrFqdnError(addr);
      if (err) v.error([...path, "address"], err);
    }
  }
  for (const [name, p] of Object.entries(ports)) {
    const at = [...path, "ports", name];
    if (opts.servicePorts && !opts.servicePorts.has(name)) v.error(at, `endpoint port ${String(p)} is not defined by the service entry`);
    const nameErr = portNameError(name);
    // Kubernetes reports a bad map key as "<map path>: Invalid value"; we keep the key in the path.
    if (nameErr) v.error(at, `Invalid value: ${nameErr}`);
    const n = readInt(v, at, p, UINT32);
    const err = n === undefined ? null : endpointPortError(n);
    if (err) v.error(at, err);
  }
  checkLabels(v, [...path, "labels"], we.labels);
}

export function validateWorkloadEntry(r: Resource, v: Validator): void {
  if (r.body.spec == null) {
    v.error(["spec"], "Required value: spec is required");
    return;
  }
  const spec = readObject(v, ["spec"], r.body.spec);
  if (spec) checkWorkloadEndpoint(v, ["spec"], spec, { allowFqdn: true });
}

export const workloadEntryKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "WorkloadEntry",
  versions: ISTIO_VERSIONS,
  namespaced: true,
  validate: validateWorkloadEntry,
};
