// Gateway (networking.istio.io): schema validation matching Istio's validator.
import { namespacedHostErrors, unixAddressError, UNIX_PREFIX } from "../checks/address.ts";
import { checkKnownFields } from "../checks/fields.ts";
import { isDns1123Label, isIP } from "../checks/host.ts";
import { portError } from "../checks/port.ts";
import { isHttpProtocol, isKnownProtocol, isTlsProtocol } from "../checks/protocol.ts";
import { checkServerTls, type ServerTlsSummary } from "../checks/server-tls.ts";
import { readArray, readInt, readObject, readString, readStringArray, readStringMap, UINT32 } from "../checks/shape.ts";
import type { FieldPath, JsonObject, Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_VERSIONS, type KindDefinition } from "./kind.ts";

export function validateGateway(r: Resource, v: Validator): void {
  if (r.metadata.name && !isDns1123Label(r.metadata.name)) v.error(["metadata", "name"], `invalid gateway name: ${JSON.stringify(r.metadata.name)}`);
  const spec = readObject(v, ["spec"], r.body.spec) ?? {};
  checkKnownFields(v, ["spec"], spec, ["servers", "selector"]);
  readStringMap(v, ["spec", "selector"], spec.selector);
  const servers = readArray(v, ["spec", "servers"], spec.servers) ?? [];
  if (servers.length === 0) v.error(["spec", "servers"], "gateway must have at least one server");
  const portNames = new Set<string>();
  servers.forEach((s, i) => {
    const at = ["spec", "servers", i];
    if (s === null) {
      v.error(at, "server may not be nil");
      return;
    }
    const server = readObject(v, at, s);
    if (!server) return;
    const { portName, protocol, tls } = checkServer(v, at, server);
    if (portName !== undefined) {
      if (portNames.has(portName)) v.error([...at, "port", "name"], `port names in servers must be unique: duplicate name ${portName}`);
      portNames.add(portName);
      if (!isHttpProtocol(protocol) && tls?.httpsRedirect) v.warn([...at, "tls", "httpsRedirect"], "tls.httpsRedirect should only be used with http servers");
    }
  });
}

function checkServer(v: Validator, path: FieldPath, s: JsonObject): { portName?: string; protocol: string; tls?: ServerTlsSummary } {
  checkKnownFields(v, path, s, ["port", "bind", "hosts", "tls", "defaultEndpoint", "name"]);
  readString(v, [...path, "name"], s.name);
  readString(v, [...path, "defaultEndpoint"], s.defaultEndpoint);
  const hosts = readStringArray(v, [...path, "hosts"], s.hosts) ?? [];
  if (hosts.length === 0) v.error([...path, "hosts"], "server config must contain at least one host");
  hosts.forEach((h, i) => {
    for (const err of namespacedHostErrors(h, true)) v.error([...path, "hosts", i], err);
  });
  const bind = readString(v, [...path, "bind"], s.bind) ?? "";
  const port = readObject(v, [...path, "port"], s.port);
  let number = 0;
  let protocol = "";
  let portName: string | undefined;
  let portOk = false;
  if (!port) v.error([...path, "port"], "port is required");
  else {
    const at = [...path, "port"];
    checkKnownFields(v, at, port, ["number", "protocol", "name", "targetPort"]);
    number = readInt(v, [...at, "number"], port.number ?? 0, UINT32) ?? 0;
    protocol = readString(v, [...at, "protocol"], port.protocol) ?? "";
    portName = readString(v, [...at, "name"], port.name) ?? "";
    portOk = true;
    if (!isKnownProtocol(protocol)) {
      v.error([...at, "protocol"], `invalid protocol ${JSON.stringify(protocol)}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`);
      portOk = false;
    }
    if (number > 0 || !bind.startsWith(UNIX_PREFIX)) {
      const err = portError(number);
      if (err) {
        v.error([...at, "number"], err);
        portOk = false;
      }
    }
    if ((readInt(v, [...at, "targetPort"], port.targetPort, UINT32) ?? 0) > 0) v.error([...at, "targetPort"], "targetPort has no impact on Gateways");
    if (portName === "") {
      v.error([...at, "name"], "port name must be set");
      portOk = false;
    }
  }
  if (bind.startsWith(UNIX_PREFIX)) {
    const err = unixAddressError(bind.slice(UNIX_PREFIX.length));
    if (err) v.error([...path, "bind"], err);
    if (number !== 0) v.error([...path, "bind"], `port number must be 0 for unix domain socket: ${number}`);
  } else if (bind !== "" && !isIP(bind)) v.error([...path, "bind"], `${bind} is not a valid IP`);
  const tlsObj = readObject(v, [...path, "tls"], s.tls);
  const tls = tlsObj ? checkServerTls(v, [...path, "tls"], tlsObj) : undefined;
  if (portOk) {
    if (isTlsProtocol(protocol) && !tls) v.error([...path, "tls"], "server must have TLS settings for HTTPS/TLS protocols");
    else if (!isTlsProtocol(protocol) && tls) {
      if (isHttpProtocol(protocol)) {
        const passthrough = tls.mode === "PASSTHROUGH" || tls.mode === "AUTO_PASSTHROUGH";
        if (!passthrough || tls.hasCerts) v.error([...path, "tls"], "server cannot have TLS settings for plain text HTTP ports");
      } else v.error([...path, "tls"], "server cannot have TLS settings for non HTTPS/TLS ports");
    }
  }
  return { ...(portName !== undefined ? { portName } : {}), protocol, ...(tls ? { tls } : {}) };
}

export const gatewayKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "Gateway",
  versions: ISTIO_VERSIONS,
  namespaced: true,
  validate: validateGateway,
};
