// ServiceEntry (networking.istio.io): schema validation matching Istio's validator, with the CRD
// schema's texts where Istio's testdata expects them.
import { checkExportTo } from "../checks/export-to.ts";
import { checkKnownFields } from "../checks/fields.ts";
import { fqdnError, ipSubnetError, partialWildcardError, wildcardDomainError } from "../checks/host.ts";
import { isHttpProtocol, isTlsProtocol, portNameError, protocolError } from "../checks/protocol.ts";
import { checkLabels } from "../checks/selector.ts";
import { readArray, readEnum, readInt, readObject, readString, readStringArray, UINT32 } from "../checks/shape.ts";
import { isObject, type FieldPath, type Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_VERSIONS, type KindDefinition } from "./kind.ts";
import { checkWorkloadEndpoint, endpointPortError } from "./workload-entry.ts";

const RESOLUTIONS = ["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"] as const;

/** networking WorkloadSelector `{labels}` as used by ServiceEntry and Sidecar. */
export function checkNetworkingSelector(v: Validator, path: FieldPath, x: unknown, owner: string): void {
  const sel = readObject(v, path, x);
  if (!sel) return;
  checkKnownFields(v, path, sel, ["labels"]);
  const labels = checkLabels(v, [...path, "labels"], sel.labels) ?? {};
  for (const [k, val] of Object.entries(labels)) {
    if (k === "") v.error([...path, "labels"], `empty key is not supported in selector: "=${val}"`);
    if (k.includes("*") || val.includes("*")) v.error([...path, "labels", k], `wildcard is not supported in selector: ${JSON.stringify(`${k}=${val}`)}`);
  }
  if (Object.keys(labels).length === 0) v.warn(path, `${owner}: workload selector specified without labels, will be applied to all services in namespace`);
}

/**
 * `addresses`, tolerating one YAML pitfall: in a flow list, an unquoted IPv6 address ending in
 * `::` (`[1.2.3.4, 2001:db8::]`) is a one-key map `{"2001:db8:": null}` to a YAML 1.2 parser, but a
 * string to the Go parser Kubernetes uses (Istio's own testdata relies on it). We read it back as
 * the address and warn that it should be quoted (consumers of the raw spec see the map).
 */
function readAddresses(v: Validator, path: FieldPath, x: unknown): (string | undefined)[] {
  const list = readArray(v, path, x) ?? [];
  const out: (string | undefined)[] = [];
  list.forEach((item, i) => {
    if (isObject(item) && Object.keys(item).length === 1) {
      const [key = ""] = Object.keys(item);
      if (item[key] === null && key.endsWith(":") && key.includes(":", 0)) {
        v.warn([...path, i], `read as ${JSON.stringify(`${key}:`)}; quote IPv6 addresses in YAML flow lists`);
        out.push(`${key}:`);
        return;
      }
    }
    // Keep indexes aligned with the list so later errors point at the right item.
    out.push(readString(v, [...path, i], item));
  });
  return out;
}

export function validateServiceEntry(r: Resource, v: Validator): void {
  if (r.body.spec == null) {
    v.error(["spec"], "Required value: spec is required");
    return;
  }
  const spec = readObject(v, ["spec"], r.body.spec);
  if (!spec) return;
  checkKnownFields(v, ["spec"], spec, ["hosts", "addresses", "ports", "location", "resolution", "endpoints", "workloadSelector", "exportTo", "subjectAltNames"]);
  checkNetworkingSelector(v, ["spec", "workloadSelector"], spec.workloadSelector, "service entry");
  if (spec.workloadSelector != null && spec.endpoints != null) v.error(["spec"], "only one of WorkloadSelector or Endpoints can be set");
  const hosts = readStringArray(v, ["spec", "hosts"], spec.hosts) ?? [];
  if (hosts.length === 0) v.error(["spec", "hosts"], "Required value: service entry must have at least one host");
  hosts.forEach((h, i) => {
    if (h === "*") {
      v.error(["spec", "hosts", i], "invalid host *: hostname cannot be wildcard");
      return;
    }
    const err = wildcardDomainError(h);
    if (err) v.error(["spec", "hosts", i], err);
    const partial = partialWildcardError(h);
    if (partial) v.warn(["spec", "hosts", i], partial);
  });
  readEnum(v, ["spec", "location"], spec.location, ["MESH_EXTERNAL", "MESH_INTERNAL"]);
  readStringArray(v, ["spec", "subjectAltNames"], spec.subjectAltNames);
  const resolution = readEnum(v, ["spec", "resolution"], spec.resolution, RESOLUTIONS) ?? "NONE";
  const addresses = readAddresses(v, ["spec", "addresses"], spec.addresses);
  addresses.forEach((a, i) => {
    const err = a === undefined ? null : ipSubnetError(a);
    if (err) v.error(["spec", "addresses", i], err);
  });
  if (addresses.some((a) => a?.includes("/")) && resolution !== "NONE" && resolution !== "STATIC") {
    v.error(["spec", "addresses"], "CIDR addresses are allowed only for NONE/STATIC resolution types");
  }

  const portNames = new Set<string>();
  const portNumbers = new Set<number>();
  const protocols: string[] = [];
  // Istio also warns about TCP ports without addresses unless DNS auto-allocation is on in the
  // proxies; Amime's sidecars always allocate, so that warning does not apply here.
  readArray(v, ["spec", "ports"], spec.ports)?.forEach((p, i) => {
    const at = ["spec", "ports", i];
    if (p === null) {
      v.error(at, "service entry port may not be null");
      return;
    }
    const port = readObject(v, at, p);
    if (!port) return;
    checkKnownFields(v, at, port, ["number", "protocol", "name", "targetPort"]);
    const name = readString(v, [...at, "name"], port.name) ?? "";
    const number = readInt(v, [...at, "number"], port.number ?? 0, UINT32);
    const proto = readString(v, [...at, "protocol"], port.protocol) ?? "";
    protocols.push(proto);
    if (portNames.has(name)) v.error([...at, "name"], `Duplicate value: service entry port name ${JSON.stringify(name)} already defined`);
    portNames.add(name);
    if (number !== undefined) {
      if (portNumbers.has(number)) v.error([...at, "number"], `port number cannot be duplicated: service entry port ${number} already defined`);
      portNumbers.add(number);
      const err = endpointPortError(number);
      if (err) v.error([...at, "number"], err);
    }
    const target = readInt(v, [...at, "targetPort"], port.targetPort, UINT32);
    if (target !== undefined && target !== 0) {
      const err = endpointPortError(target);
      if (err) v.error([...at, "targetPort"], err);
      if (resolution === "NONE") v.warn([...at, "targetPort"], "targetPort has no effect when resolution mode is NONE");
    }
    const nameErr = portNameError(name);
    if (nameErr) v.error([...at, "name"], nameErr);
    const protoErr = protocolError(proto);
    if (protoErr) v.error([...at, "protocol"], protoErr);
  });

  const endpoints = readArray(v, ["spec", "endpoints"], spec.endpoints) ?? [];
  const checkEndpoints = (allowFqdn: boolean): void =>
    endpoints.forEach((e, i) => {
      const at = ["spec", "endpoints", i];
      if (e === null) {
        v.error(at, "endpoint cannot be nil");
        return;
      }
      const ep = readObject(v, at, e);
      if (!ep) return;
      if (allowFqdn && typeof ep.address === "string" && ep.address.startsWith("unix://")) {
        v.error([...at, "address"], `endpoint address ${JSON.stringify(ep.address)} is not a valid FQDN or an IP address`);
      }
      checkWorkloadEndpoint(v, at, ep, { servicePorts: portNames, allowFqdn });
    });
  switch (resolution) {
    case "NONE":
      if (endpoints.length > 0) v.error(["spec", "endpoints"], "NONE mode cannot set endpoints (no endpoints should be provided for resolution type none)");
      if (spec.workloadSelector != null) v.warn(["spec", "workloadSelector"], "workloadSelector should not be set when resolution mode is NONE");
      break;
    case "STATIC":
      checkEndpoints(false);
      break;
    case "DNS":
    case "DNS_ROUND_ROBIN":
      if (endpoints.length === 0) {
        hosts.forEach((h, i) => {
          if (fqdnError(h)) v.error(["spec", "hosts", i], `hosts must be FQDN if no endpoints are provided for resolution mode ${resolution}`);
        });
      }
      if (resolution === "DNS_ROUND_ROBIN" && endpoints.length > 1) v.error(["spec", "endpoints"], "DNS_ROUND_ROBIN mode cannot have multiple endpoints");
      checkEndpoints(true);
      if (spec.workloadSelector != null) v.warn(["spec", "workloadSelector"], `workloadSelector should not be set when resolution mode is ${resolution}`);
      break;
  }
  // Plain TCP cannot tell hosts apart, so several hosts need HTTP or TLS (SNI) ports.
  if (resolution !== "NONE" && hosts.length > 1 && protocols.some((p) => !isHttpProtocol(p) && !isTlsProtocol(p))) {
    v.error(["spec", "ports"], "multiple hosts provided with non-HTTP, non-TLS ports");
  }
  checkExportTo(v, ["spec", "exportTo"], spec.exportTo, { namespace: r.metadata.namespace || "default", isServiceEntry: true });
}

export const serviceEntryKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "ServiceEntry",
  versions: ISTIO_VERSIONS,
  namespaced: true,
  validate: validateServiceEntry,
};
