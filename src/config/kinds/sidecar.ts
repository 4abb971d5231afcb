// Sidecar (networking.istio.io): schema validation matching Istio's validator.
import { namespacedHostErrors, unixAddressError, UNIX_PREFIX } from "../checks/address.ts";
import { checkConnectionPool } from "../checks/connection-pool.ts";
import { checkKnownFields } from "../checks/fields.ts";
import { fqdnError, isIP } from "../checks/host.ts";
import { portError } from "../checks/port.ts";
import { isHttpProtocol, portNameError, protocolError } from "../checks/protocol.ts";
import { checkServerTls } from "../checks/server-tls.ts";
import { readArray, readEnum, readInt, readObject, readString, readStringArray, UINT32 } from "../checks/shape.ts";
import type { FieldPath, JsonObject, Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_VERSIONS, type KindDefinition } from "./kind.ts";
import { checkNetworkingSelector } from "./service-entry.ts";
import { checkDestination } from "./virtual-service/destination.ts";

const CAPTURE_MODES = ["DEFAULT", "IPTABLES", "NONE"] as const;

interface SidecarPort {
  number: number;
  protocol: string;
  name: string;
}

function readSidecarPort(v: Validator, path: FieldPath, p: JsonObject, what: "Sidecars"): SidecarPort {
  checkKnownFields(v, path, p, ["number", "protocol", "name", "targetPort"]);
  const port: SidecarPort = {
    number: readInt(v, [...path, "number"], p.number ?? 0, UINT32) ?? 0,
    protocol: readString(v, [...path, "protocol"], p.protocol) ?? "",
    name: readString(v, [...path, "name"], p.name) ?? "",
  };
  if ((readInt(v, [...path, "targetPort"], p.targetPort, UINT32) ?? 0) > 0) v.error([...path, "targetPort"], `targetPort has no impact on ${what}`);
  if (port.name !== "") {
    const err = portNameError(port.name);
    if (err) v.error([...path, "name"], err);
  }
  const perr = protocolError(port.protocol);
  if (perr) v.error([...path, "protocol"], perr);
  return port;
}

function checkBindIp(v: Validator, path: FieldPath, bind: string): void {
  if (bind !== "" && !isIP(bind)) v.error(path, `${bind} is not a valid IP`);
}

export function validateSidecar(r: Resource, v: Validator): void {
  const spec = readObject(v, ["spec"], r.body.spec) ?? {};
  checkKnownFields(v, ["spec"], spec, ["workloadSelector", "ingress", "egress", "inboundConnectionPool", "outboundTrafficPolicy"]);
  checkNetworkingSelector(v, ["spec", "workloadSelector"], spec.workloadSelector, "sidecar");
  const ingress = readArray(v, ["spec", "ingress"], spec.ingress) ?? [];
  const egress = readArray(v, ["spec", "egress"], spec.egress) ?? [];
  if (ingress.length === 0 && egress.length === 0 && spec.outboundTrafficPolicy == null && spec.inboundConnectionPool == null) {
    v.error(["spec"], "sidecar: empty configuration provided");
    return;
  }
  const ports = new Set<number>();
  ingress.forEach((item, i) => {
    const at = ["spec", "ingress", i];
    if (item === null) return v.error(at, "sidecar: ingress may not be null");
    const l = readObject(v, at, item);
    if (!l) return;
    checkKnownFields(v, at, l, ["port", "bind", "captureMode", "defaultEndpoint", "tls", "connectionPool"]);
    readEnum(v, [...at, "captureMode"], l.captureMode, CAPTURE_MODES);
    const p = readObject(v, [...at, "port"], l.port);
    if (!p) return v.error([...at, "port"], "sidecar: port is required for ingress listeners");
    const port = readSidecarPort(v, [...at, "port"], p, "Sidecars");
    const perr = portError(port.number);
    if (perr) v.error([...at, "port", "number"], perr);
    checkBindIp(v, [...at, "bind"], readString(v, [...at, "bind"], l.bind) ?? "");
    if (ports.has(port.number)) v.error([...at, "port"], "sidecar: ports on IP bound listeners must be unique");
    ports.add(port.number);
    const ep = readString(v, [...at, "defaultEndpoint"], l.defaultEndpoint) ?? "";
    if (ep !== "") checkDefaultEndpoint(v, [...at, "defaultEndpoint"], ep);
    const tls = readObject(v, [...at, "tls"], l.tls);
    if (tls) {
      const s = checkServerTls(v, [...at, "tls"], tls);
      if (s.subjectAltNames.length > 0) v.error([...at, "tls", "subjectAltNames"], "sidecar: subjectAltNames is not supported in ingress tls");
      if (s.httpsRedirect) v.error([...at, "tls", "httpsRedirect"], "sidecar: httpsRedirect is not supported");
      if (s.credentialName !== "") v.error([...at, "tls", "credentialName"], "sidecar: credentialName is not currently supported");
      if (s.mode === "ISTIO_MUTUAL" || s.mode === "AUTO_PASSTHROUGH") v.error([...at, "tls", "mode"], `configuration is invalid: cannot set mode to ${s.mode} in sidecar ingress tls`);
    }
    checkConnectionPool(v, [...at, "connectionPool"], l.connectionPool);
    const pool = readObject(v, [...at, "connectionPool"], l.connectionPool);
    if (pool?.http != null && !isHttpProtocol(port.protocol)) {
      v.warn([...at, "connectionPool", "http"], `sidecar: HTTP connection pool settings are configured for port ${port.number} (${JSON.stringify(port.name)}) but its protocol is not HTTP (${port.protocol}); only TCP settings will apply`);
    }
  });
  checkConnectionPool(v, ["spec", "inboundConnectionPool"], spec.inboundConnectionPool);
  checkEgress(v, egress, r.metadata.namespace || "default");
  checkOutboundPolicy(v, ["spec", "outboundTrafficPolicy"], spec.outboundTrafficPolicy);
}

function checkDefaultEndpoint(v: Validator, path: FieldPath, ep: string): void {
  if (ep.startsWith(UNIX_PREFIX)) {
    const err = unixAddressError(ep.slice(UNIX_PREFIX.length));
    if (err) v.error(path, err);
    return;
  }
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(ep);
  if (!m) return v.error(path, `address ${ep}: missing port in address`);
  const host = m[1] ?? m[2] ?? "";
  if (host !== "" && !["127.0.0.1", "0.0.0.0", "::1", "::"].includes(host)) {
    v.error(path, "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset");
  }
  const portText = m[3] ?? "";
  if (!/^\d+$/.test(portText)) return v.error(path, `sidecar: defaultEndpoint port (${portText}) is not a number`);
  const err = portError(Number(portText));
  if (err) v.error(path, err);
}

function checkEgress(v: Validator, egress: unknown[], namespace: string): void {
  const ports = new Set<number>();
  const sockets = new Set<string>();
  let catchAll = false;
  egress.forEach((item, i) => {
    const at = ["spec", "egress", i];
    if (item === null) return v.error(at, "egress listener may not be null");
    const l = readObject(v, at, item);
    if (!l) return;
    checkKnownFields(v, at, l, ["port", "bind", "captureMode", "hosts"]);
    const bind = readString(v, [...at, "bind"], l.bind) ?? "";
    const capture = readEnum(v, [...at, "captureMode"], l.captureMode, CAPTURE_MODES) ?? "DEFAULT";
    const p = readObject(v, [...at, "port"], l.port);
    if (!p) {
      if (catchAll) return v.error(at, "sidecar: egress can have only one listener with empty port");
      if (i === egress.length - 1) catchAll = true;
      else v.error(at, "sidecar: the egress listener with empty port should be the last listener in the list");
    } else {
      const port = readSidecarPort(v, [...at, "port"], p, "Sidecars");
      if (port.number === 0) {
        if (!bind.startsWith(UNIX_PREFIX)) v.error([...at, "bind"], "sidecar: ports with 0 value must have a unix domain socket bind address");
        else {
          const err = unixAddressError(bind.slice(UNIX_PREFIX.length));
          if (err) v.error([...at, "bind"], err);
        }
        if (capture !== "DEFAULT" && capture !== "NONE") v.error([...at, "captureMode"], "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners");
        if (sockets.has(bind)) v.error([...at, "bind"], "sidecar: unix domain socket values for listeners must be unique");
        sockets.add(bind);
      } else {
        const err = portError(port.number);
        if (err) v.error([...at, "port", "number"], err);
        checkBindIp(v, [...at, "bind"], bind);
        if (ports.has(port.number)) v.error([...at, "port"], "sidecar: ports on IP bound listeners must be unique");
        ports.add(port.number);
      }
    }
    const hosts = readStringArray(v, [...at, "hosts"], l.hosts) ?? [];
    if (hosts.length === 0) return v.error([...at, "hosts"], "sidecar: egress listener must contain at least one host");
    const byNs = new Map<string, Set<string>>();
    hosts.forEach((h, j) => {
      const slash = h.indexOf("/");
      if (slash >= 0) {
        const ns = h.slice(0, slash) === "." ? namespace : h.slice(0, slash);
        const svc = h.slice(slash + 1);
        const set = byNs.get(ns) ?? new Set<string>();
        if ((svc !== "*" && (set.has(svc) || set.has("*"))) || (svc === "*" && set.size > 0)) v.warn([...at, "hosts", j], `duplicated egress host: ${h}`);
        set.add(svc);
        byNs.set(ns, set);
      }
      for (const err of namespacedHostErrors(h, false)) v.error([...at, "hosts", j], err);
    });
    if (byNs.get("*")?.has("*") && byNs.size !== 1) v.warn([...at, "hosts"], "`*/*` host select all resources, no other hosts can be added");
  });
}

function checkOutboundPolicy(v: Validator, path: FieldPath, x: unknown): void {
  const tp = readObject(v, path, x);
  if (!tp) return;
  checkKnownFields(v, path, tp, ["mode", "egressProxy"]);
  const mode = readEnum(v, [...path, "mode"], tp.mode, ["REGISTRY_ONLY", "ALLOW_ANY"]) ?? "REGISTRY_ONLY";
  const proxy = readObject(v, [...path, "egressProxy"], tp.egressProxy);
  if (!proxy) return;
  if (mode !== "ALLOW_ANY") return v.error([...path, "egressProxy"], "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode");
  const host = typeof proxy.host === "string" ? proxy.host : "";
  const err = fqdnError(host);
  if (err) v.error([...path, "egressProxy", "host"], err);
  if (proxy.port == null) return v.error([...path, "egressProxy", "port"], "sidecar: egress_proxy port must be non-nil");
  checkDestination(v, [...path, "egressProxy"], proxy);
}

export const sidecarKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "Sidecar",
  versions: ISTIO_VERSIONS,
  namespaced: true,
  validate: validateSidecar,
};
