// TrafficPolicy and its port-level overrides, outlier detection, client TLS, tunnel, proxy protocol.
import { checkConnectionPool } from "../../checks/connection-pool.ts";
import { checkDuration } from "../../checks/duration.ts";
import { checkKnownFields } from "../../checks/fields.ts";
import { fqdnError, isIP } from "../../checks/host.ts";
import { percentRangeError } from "../../checks/percent.ts";
import { checkPort, portError } from "../../checks/port.ts";
import { readArray, readBool, readEnum, readInt, readNumber, readObject, readString, readStringArray, UINT32 } from "../../checks/shape.ts";
import type { FieldPath, JsonObject } from "../../../model/resource.ts";
import type { Validator } from "../../validator.ts";
import { checkLoadBalancer } from "./load-balancer.ts";

const POLICY_FIELDS = ["loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget"] as const;
export const MAX_PORT_LEVEL_SETTINGS = 4096;

function present(x: unknown): boolean {
  return x !== undefined && x !== null;
}

export function checkTrafficPolicy(v: Validator, path: FieldPath, x: unknown): void {
  const tp = readObject(v, path, x);
  if (!tp) return;
  checkKnownFields(v, path, tp, POLICY_FIELDS);
  if (!POLICY_FIELDS.some((f) => present(tp[f]))) {
    v.error(path, "traffic policy must have at least one field");
    return;
  }
  if (present(tp.tunnel) && present(tp.proxyProtocol)) {
    v.error(path, "tunnel and proxyProtocol must not be set together");
    return;
  }
  checkPolicyParts(v, path, tp);
  const pls = readArray(v, [...path, "portLevelSettings"], tp.portLevelSettings) ?? [];
  if (pls.length > MAX_PORT_LEVEL_SETTINGS) v.error([...path, "portLevelSettings"], `at most ${MAX_PORT_LEVEL_SETTINGS} port level settings are allowed`);
  pls.forEach((item, i) => {
    const at = [...path, "portLevelSettings", i];
    if (item === null) {
      v.error(at, "traffic policy may not be null");
      return;
    }
    const p = readObject(v, at, item);
    if (!p) return;
    checkKnownFields(v, at, p, ["port", "loadBalancer", "connectionPool", "outlierDetection", "tls"]);
    const port = readObject(v, [...at, "port"], p.port);
    if (!port) v.error([...at, "port"], "portTrafficPolicy must have valid port");
    else {
      checkKnownFields(v, [...at, "port"], port, ["number"]);
      checkPort(v, [...at, "port", "number"], port.number ?? 0);
    }
    if (!["loadBalancer", "connectionPool", "outlierDetection", "tls"].some((f) => present(p[f]))) v.error(at, "port traffic policy must have at least one field");
    else checkPolicyParts(v, at, p);
  });
  const tunnel = readObject(v, [...path, "tunnel"], tp.tunnel);
  if (tunnel) checkTunnel(v, [...path, "tunnel"], tunnel);
  const pp = readObject(v, [...path, "proxyProtocol"], tp.proxyProtocol);
  if (pp) {
    checkKnownFields(v, [...path, "proxyProtocol"], pp, ["version"]);
    if (pp.version != null && !["V1", "V2", 0, 1].includes(pp.version as string | number)) {
      v.error([...path, "proxyProtocol", "version"], `proxy protocol version is invalid: ${JSON.stringify(pp.version)} (use V1 or V2)`);
    }
  }
  const budget = readObject(v, [...path, "retryBudget"], tp.retryBudget);
  if (budget) {
    const at = [...path, "retryBudget"];
    checkKnownFields(v, at, budget, ["percent", "minRetryConcurrency"]);
    const pct = readObject(v, [...at, "percent"], budget.percent);
    const n = pct ? readNumber(v, [...at, "percent", "value"], pct.value) : undefined;
    if (n !== undefined && (n < 0 || n > 100)) v.error([...at, "percent", "value"], `percentage ${n} is not in range 0..100`);
    readInt(v, [...at, "minRetryConcurrency"], budget.minRetryConcurrency, UINT32);
  }
}

function checkPolicyParts(v: Validator, path: FieldPath, tp: JsonObject): void {
  const outlier = readObject(v, [...path, "outlierDetection"], tp.outlierDetection);
  if (outlier) checkOutlier(v, [...path, "outlierDetection"], outlier);
  checkConnectionPool(v, [...path, "connectionPool"], tp.connectionPool);
  const lb = readObject(v, [...path, "loadBalancer"], tp.loadBalancer);
  if (lb) checkLoadBalancer(v, [...path, "loadBalancer"], lb, outlier);
  const tls = readObject(v, [...path, "tls"], tp.tls);
  if (tls) checkClientTls(v, [...path, "tls"], tls);
}

function checkOutlier(v: Validator, path: FieldPath, o: JsonObject): void {
  checkKnownFields(v, path, o, [
    "consecutiveErrors", "splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures", "consecutiveGatewayErrors",
    "consecutive5xxErrors", "interval", "baseEjectionTime", "maxEjectionPercent", "minHealthPercent",
  ]);
  if (o.baseEjectionTime != null) checkDuration(v, [...path, "baseEjectionTime"], o.baseEjectionTime);
  if (o.interval != null) checkDuration(v, [...path, "interval"], o.interval);
  const ce = readInt(v, [...path, "consecutiveErrors"], o.consecutiveErrors);
  if (ce !== undefined && ce !== 0) {
    v.deprecated([...path, "consecutiveErrors"], "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead");
  }
  for (const f of ["consecutive5xxErrors", "consecutiveGatewayErrors"] as const) readInt(v, [...path, f], o[f], UINT32);
  const split = readBool(v, [...path, "splitExternalLocalOriginErrors"], o.splitExternalLocalOriginErrors) ?? false;
  const local = readInt(v, [...path, "consecutiveLocalOriginFailures"], o.consecutiveLocalOriginFailures, UINT32) ?? 0;
  if (!split && local > 0) {
    v.error([...path, "consecutiveLocalOriginFailures"], "outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false");
  }
  for (const f of ["maxEjectionPercent", "minHealthPercent"] as const) {
    const n = readInt(v, [...path, f], o[f]);
    const err = n === undefined ? null : percentRangeError(n);
    if (err) v.error([...path, f], err);
  }
}

const TLS_FIELDS = ["mode", "clientCertificate", "privateKey", "caCertificates", "credentialName", "subjectAltNames", "sni", "insecureSkipVerify", "caCrl"] as const;

/** ClientTLSSettings (Istio's ValidateTLS). */
export function checkClientTls(v: Validator, path: FieldPath, t: JsonObject): void {
  checkKnownFields(v, path, t, TLS_FIELDS);
  const mode = readEnum(v, [...path, "mode"], t.mode, ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]) ?? "DISABLE";
  const s = (f: string): string => readString(v, [...path, f], t[f]) ?? "";
  const [cert, key, ca, cred, crl] = [s("clientCertificate"), s("privateKey"), s("caCertificates"), s("credentialName"), s("caCrl")];
  s("sni");
  const sans = readStringArray(v, [...path, "subjectAltNames"], t.subjectAltNames);
  const skip = readBool(v, [...path, "insecureSkipVerify"], t.insecureSkipVerify) ?? false;
  if (skip && mode === "SIMPLE" && (ca !== "" || cred !== "" || sans !== undefined)) {
    v.error(path, "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true");
  }
  if (skip && mode === "MUTUAL" && (ca !== "" || sans !== undefined)) {
    v.error(path, "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true");
  }
  if ((mode === "SIMPLE" || mode === "MUTUAL") && cred !== "") {
    if (cert !== "" || ca !== "" || key !== "" || crl !== "") v.error(path, "cannot specify client certificates or CA certificate or CA CRL If credentialName is set");
    return;
  }
  if (mode === "MUTUAL") {
    if (cert === "") v.error([...path, "clientCertificate"], "client certificate required for mutual tls");
    if (key === "") v.error([...path, "privateKey"], "private key required for mutual tls");
  }
  if (mode === "ISTIO_MUTUAL" && [cert, key, ca, cred].some((x) => x !== "")) {
    v.warn(path, "ISTIO_MUTUAL uses Istio-issued certificates; clientCertificate, privateKey, caCertificates and credentialName are ignored");
  }
}

function checkTunnel(v: Validator, path: FieldPath, t: JsonObject): void {
  checkKnownFields(v, path, t, ["protocol", "targetHost", "targetPort"]);
  const proto = readString(v, [...path, "protocol"], t.protocol) ?? "";
  if (proto !== "" && proto !== "CONNECT" && proto !== "POST") v.error([...path, "protocol"], 'tunnel protocol must be "CONNECT" or "POST"');
  const host = readString(v, [...path, "targetHost"], t.targetHost) ?? "";
  const fqdnErr = fqdnError(host);
  if (fqdnErr && !isIP(host)) v.error([...path, "targetHost"], `tunnel target host must be valid FQDN or IP address: ${fqdnErr}; ${host} is not a valid IP`);
  const port = readInt(v, [...path, "targetPort"], t.targetPort ?? 0, UINT32);
  const perr = port === undefined ? null : portError(port);
  if (perr) v.error([...path, "targetPort"], `tunnel target port is invalid: ${perr}`);
}
