// Kubernetes core v1 Service: the stable name and ports in front of workloads. Amime validates the
// fields it uses the way the Kubernetes API server does (ports, names, targetPort, type, clusterIP)
// and reads each port's protocol as Istio does (model/specs/kubernetes.ts portProtocol).
import { isIP } from "../checks/host.ts";
import { checkHealthCheckAnnotation } from "../checks/health-check.ts";
import { readArray, readEnum, readInt, readObjectItem, readString, readStringList, readStringMap, required, warnUnknownFields } from "../checks/json-shape.ts";
import { labelKeyProblem, labelValueProblem } from "../checks/policy-target.ts";
import { isObject, type FieldPath, type Resource } from "../../model/resource.ts";
import type { ServiceType, TransportProtocol } from "../../model/specs/kubernetes.ts";
import type { Validator } from "../validator.ts";
import type { KindDefinition } from "./kind.ts";

const SPEC_FIELDS = [
  "selector", "ports", "type", "clusterIP", "clusterIPs", "externalName", "sessionAffinity", "sessionAffinityConfig",
  "externalIPs", "externalTrafficPolicy", "internalTrafficPolicy", "ipFamilies", "ipFamilyPolicy", "loadBalancerIP",
  "loadBalancerSourceRanges", "loadBalancerClass", "allocateLoadBalancerNodePorts", "healthCheckNodePort",
  "publishNotReadyAddresses", "trafficDistribution",
];
const TYPES: readonly ServiceType[] = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
const PROTOCOLS: readonly TransportProtocol[] = ["TCP", "UDP", "SCTP"];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes IANA_SVC_NAME (a named port): ≤ 15 chars of a-z, 0-9 and '-', with a letter, no '--', no '-' at the ends. */
export function ianaServiceNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 15) return "must be 1 to 15 characters";
  if (!/^[a-z0-9-]+$/.test(name)) return "must contain only lowercase letters, digits and '-'";
  if (!/[a-z]/.test(name)) return "must contain at least one letter";
  if (name.startsWith("-") || name.endsWith("-") || name.includes("--")) return "must not start or end with '-' or contain '--'";
  return null;
}

export const serviceKind: KindDefinition = {
  group: "",
  kind: "Service",
  versions: ["v1"],
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    if (!isObject(r.body.spec)) {
      v.error(["spec"], "Required value: a Service needs a spec with ports");
      return;
    }
    const spec = r.body.spec;
    warnUnknownFields(v, ["spec"], spec, SPEC_FIELDS);
    checkHealthCheckAnnotation(v, r.metadata.annotations);
    const type = readEnum(v, ["spec", "type"], spec.type, TYPES) ?? "ClusterIP";
    const clusterIP = readString(v, ["spec", "clusterIP"], spec.clusterIP);
    if (clusterIP !== undefined && clusterIP !== "" && clusterIP !== "None" && !isIP(clusterIP)) {
      v.error(["spec", "clusterIP"], `must be "", "None" or a valid IP address (got ${JSON.stringify(clusterIP)})`);
    }
    readStringList(v, ["spec", "clusterIPs"], spec.clusterIPs)?.forEach((ip, i) => {
      if (ip !== "None" && !isIP(ip)) v.error(["spec", "clusterIPs", i], `must be "None" or a valid IP address (got ${JSON.stringify(ip)})`);
    });
    const externalName = readString(v, ["spec", "externalName"], spec.externalName);
    if (type === "ExternalName") {
      if (!externalName) v.error(["spec", "externalName"], "Required value: a Service of type ExternalName needs externalName");
      else if (externalName.length > 253 || !DNS1123_SUBDOMAIN.test(externalName.replace(/\.$/, ""))) v.error(["spec", "externalName"], `${JSON.stringify(externalName)} must be a lowercase DNS name`);
    }
    readEnum(v, ["spec", "sessionAffinity"], spec.sessionAffinity, ["None", "ClientIP"] as const);
    readEnum(v, ["spec", "externalTrafficPolicy"], spec.externalTrafficPolicy, ["Cluster", "Local"] as const);
    readEnum(v, ["spec", "internalTrafficPolicy"], spec.internalTrafficPolicy, ["Cluster", "Local"] as const);

    const selector = readStringMap(v, ["spec", "selector"], spec.selector);
    for (const [k, val] of Object.entries(selector ?? {})) {
      const p = labelKeyProblem(k) ?? labelValueProblem(val);
      if (p) v.error(["spec", "selector", k], p);
    }

    const ports = readArray(v, ["spec", "ports"], spec.ports);
    const headless = clusterIP === "None";
    if ((!ports || ports.length === 0) && type !== "ExternalName" && !headless) {
      v.error(["spec", "ports"], "Required value: a Service needs at least one port (only headless and ExternalName Services may have none)");
    }
    const names = new Map<string, number>();
    const numbers = new Map<string, number>();
    ports?.forEach((item, i) => {
      const at: FieldPath = ["spec", "ports", i];
      const p = readObjectItem(v, at, item);
      if (!p) return;
      warnUnknownFields(v, at, p, ["name", "protocol", "appProtocol", "port", "targetPort", "nodePort"]);
      const name = readString(v, [...at, "name"], p.name);
      if (name === undefined || name === "") {
        if (ports.length > 1) v.error([...at, "name"], "Required value: each port of a Service with several ports needs a name");
      } else if (name.length > 63 || !DNS1123_LABEL.test(name)) {
        v.error([...at, "name"], `${JSON.stringify(name)} must be a lowercase RFC 1123 label (letters, digits, '-')`);
      } else if (names.has(name)) {
        v.error([...at, "name"], `Duplicate value: ${JSON.stringify(name)} is also the name of ports[${names.get(name)}]`);
      } else names.set(name, i);
      const protocol = readEnum(v, [...at, "protocol"], p.protocol, PROTOCOLS) ?? "TCP";
      readString(v, [...at, "appProtocol"], p.appProtocol);
      let port: number | undefined;
      if (required(v, [...at, "port"], p.port)) port = readInt(v, [...at, "port"], p.port, { min: 1, max: 65535 });
      if (port !== undefined) {
        const key = `${port}/${protocol}`;
        if (numbers.has(key)) v.error([...at, "port"], `Duplicate value: port ${port}/${protocol} is also ports[${numbers.get(key)}]`);
        else numbers.set(key, i);
      }
      checkTargetPort(v, [...at, "targetPort"], p.targetPort);
      readInt(v, [...at, "nodePort"], p.nodePort, { min: 0, max: 65535 });
    });
  },
};

function checkTargetPort(v: Validator, path: FieldPath, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value === "number") {
    readInt(v, path, value, { min: 1, max: 65535 });
    return;
  }
  if (typeof value !== "string") {
    v.error(path, "must be a port number or the name of a workload port");
    return;
  }
  if (/^\d+$/.test(value)) {
    v.error(path, `${JSON.stringify(value)} is a quoted number; write targetPort: ${value} without quotes, or use a port name`);
    return;
  }
  const p = ianaServiceNameProblem(value);
  if (p) v.error(path, `port name ${JSON.stringify(value)} ${p}`);
}
