// ServerTLSSettings (Gateway servers, Sidecar ingress listeners): Istio's validateTLSOptions.
import type { FieldPath, JsonObject } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { checkKnownFields } from "./fields.ts";
import { readBool, readEnum, readString, readStringArray } from "./shape.ts";

export const SERVER_TLS_MODES = ["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"] as const;
export const TLS_VERSIONS = ["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"] as const;

const FIELDS = [
  "httpsRedirect", "mode", "serverCertificate", "privateKey", "caCertificates", "caCrl", "credentialName", "credentialNames",
  "subjectAltNames", "verifyCertificateSpki", "verifyCertificateHash", "minProtocolVersion", "maxProtocolVersion", "cipherSuites",
] as const;

export interface ServerTlsSummary {
  mode: (typeof SERVER_TLS_MODES)[number];
  httpsRedirect: boolean;
  hasCerts: boolean;
  credentialName: string;
  subjectAltNames: string[];
}

export function checkServerTls(v: Validator, path: FieldPath, t: JsonObject): ServerTlsSummary {
  checkKnownFields(v, path, t, FIELDS);
  const mode = readEnum(v, [...path, "mode"], t.mode, SERVER_TLS_MODES) ?? "PASSTHROUGH";
  const httpsRedirect = readBool(v, [...path, "httpsRedirect"], t.httpsRedirect) ?? false;
  const s = (f: string): string => readString(v, [...path, f], t[f]) ?? "";
  const [cert, key, ca, crl, cred] = [s("serverCertificate"), s("privateKey"), s("caCertificates"), s("caCrl"), s("credentialName")];
  const creds = readStringArray(v, [...path, "credentialNames"], t.credentialNames) ?? [];
  const sans = readStringArray(v, [...path, "subjectAltNames"], t.subjectAltNames) ?? [];
  for (const f of ["verifyCertificateSpki", "verifyCertificateHash"]) readStringArray(v, [...path, f], t[f]);
  const min = readEnum(v, [...path, "minProtocolVersion"], t.minProtocolVersion, TLS_VERSIONS);
  readEnum(v, [...path, "maxProtocolVersion"], t.maxProtocolVersion, TLS_VERSIONS);
  const ciphers = readStringArray(v, [...path, "cipherSuites"], t.cipherSuites) ?? [];
  const summary: ServerTlsSummary = { mode, httpsRedirect, hasCerts: cert !== "" || key !== "" || ca !== "", credentialName: cred, subjectAltNames: sans };
  if ((min === "TLSV1_0" || min === "TLSV1_1") && ciphers.length === 0) {
    v.warn([...path, "minProtocolVersion"], "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.");
  }
  const dup = ciphers.filter((c, i) => ciphers.indexOf(c) !== i);
  if (dup.length > 0) v.warn([...path, "cipherSuites"], `ignoring duplicate cipher suites: [${[...new Set(dup)].sort().join(" ")}]`);
  if (mode === "ISTIO_MUTUAL") {
    if (cert) v.error([...path, "serverCertificate"], "ISTIO_MUTUAL TLS cannot have associated server certificate");
    if (key) v.error([...path, "privateKey"], "ISTIO_MUTUAL TLS cannot have associated private key");
    if (ca) v.error([...path, "caCertificates"], "ISTIO_MUTUAL TLS cannot have associated CA bundle");
    if (cred) v.error([...path, "credentialName"], "ISTIO_MUTUAL TLS cannot have associated credentialName");
    return summary;
  }
  if ((mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH") && (crl || cert || key || ca || cred)) {
    v.warn(path, `${mode} mode does not use certificates, they will be ignored`);
  }
  const hasCredential = cred !== "" || creds.length > 0;
  if ((mode === "SIMPLE" || mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL") && hasCredential) return summary;
  if (mode === "SIMPLE") {
    if (!cert) v.error(path, "SIMPLE TLS requires a server certificate");
    if (!key) v.error(path, "SIMPLE TLS requires a private key");
  } else if (mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL") {
    if (!cert) v.error(path, "MUTUAL TLS requires a server certificate");
    if (!key) v.error(path, "MUTUAL TLS requires a private key");
    if (!ca) v.error(path, "MUTUAL TLS requires a client CA bundle");
  }
  if (crl) {
    if (cred) v.error([...path, "caCrl"], "CRL is not supported with credentialName. CRL has to be specified in the credential");
    if (mode === "SIMPLE") v.error([...path, "caCrl"], "CRL is not supported with SIMPLE TLS");
  }
  return summary;
}
