// amime.dev/v1alpha1 Workload: a local process (or several replicas) that Amime runs with a sidecar.
// The fields mirror a Kubernetes container (command, args, env, workingDir, ports, readinessProbe)
// and their defaults; the design and an example are in docs/config.md.
import { readArray, readEnum, readInt, readObject, readObjectItem, readString, readStringList, required, warnUnknownFields } from "../checks/json-shape.ts";
import { labelKeyProblem, labelValueProblem } from "../checks/policy-target.ts";
import { isObject, type FieldPath, type JsonObject, type Resource } from "../../model/resource.ts";
import { RESERVED_ENV, RESERVED_ENV_PREFIX, type RestartPolicy } from "../../model/specs/workload.ts";
import type { Validator } from "../validator.ts";
import type { KindDefinition } from "./kind.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import { ianaServiceNameProblem } from "./service.ts";

const PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config";
const SPEC_FIELDS = ["serviceAccount", "replicas", "command", "args", "env", "workingDir", "ports", "readinessProbe", "restartPolicy"];
const PROBE_FIELDS = ["httpGet", "tcpSocket", "initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"];
const RESTART: readonly RestartPolicy[] = ["Always", "OnFailure", "Never"];
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes container fields a Workload does not have, with what to do instead. */
const NOT_SUPPORTED: Record<string, string> = {
  image: "a Workload runs a local command, not a container image; put the program in `command`",
  containers: "a Workload is one process: write command/args/env/ports directly under spec",
  livenessProbe: "only readinessProbe is supported; restartPolicy decides what happens when the process exits",
  serviceAccountName: "the field is called `serviceAccount` here",
};

export const workloadKind: KindDefinition = {
  group: "amime.dev",
  kind: "Workload",
  versions: ["v1alpha1"],
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    checkLabels(r, v);
    // Istio's per-proxy ProxyConfig: Amime's proxies take MeshConfig defaultConfig only.
    if (r.metadata.annotations[PROXY_CONFIG_ANNOTATION] !== undefined) v.warn(["metadata", "annotations", PROXY_CONFIG_ANNOTATION], `annotation ${PROXY_CONFIG_ANNOTATION} (a per-proxy ProxyConfig) is accepted but not applied by Amime: set the fields in MeshConfig defaultConfig (--mesh-config)`, AnalyzerCodes.meshConfigNotApplied);
    if (!isObject(r.body.spec)) {
      v.error(["spec"], "Required value: a Workload needs a spec with at least `command`");
      return;
    }
    const spec = r.body.spec;
    for (const [field, hint] of Object.entries(NOT_SUPPORTED)) if (field in spec) v.error(["spec", field], `not supported: ${hint}`);
    warnUnknownFields(v, ["spec"], Object.fromEntries(Object.entries(spec).filter(([k]) => !(k in NOT_SUPPORTED))), SPEC_FIELDS);

    const sa = readString(v, ["spec", "serviceAccount"], spec.serviceAccount);
    if (sa !== undefined && (sa.length > 253 || !DNS1123_SUBDOMAIN.test(sa))) v.error(["spec", "serviceAccount"], `${JSON.stringify(sa)} must be a lowercase RFC 1123 subdomain, e.g. "bookinfo-reviews"`);
    readInt(v, ["spec", "replicas"], spec.replicas, { min: 0, max: 1000 });
    checkCommand(v, spec);
    checkEnv(v, spec.env);
    readString(v, ["spec", "workingDir"], spec.workingDir, { nonEmpty: true });
    const portNames = checkPorts(v, spec.ports);
    checkProbe(v, ["spec", "readinessProbe"], spec.readinessProbe, portNames);
    readEnum(v, ["spec", "restartPolicy"], spec.restartPolicy, RESTART);
  },
};

function checkLabels(r: Resource, v: Validator): void {
  const labels = r.metadata.labels;
  for (const [k, val] of Object.entries(labels)) {
    const p = labelKeyProblem(k) ?? labelValueProblem(val);
    if (p) v.error(["metadata", "labels", k], p);
  }
  if (labels.app === undefined) v.warn(["metadata", "labels"], `no "app" label: Services select workloads by labels, and metrics use "app" (the workload name "${r.metadata.name}" stands in)`);
}

function checkCommand(v: Validator, spec: JsonObject): void {
  if (typeof spec.command === "string") {
    v.error(["spec", "command"], `must be a list, e.g. command: [${spec.command.split(/\s+/).filter(Boolean).map((s) => JSON.stringify(s)).join(", ")}] (no shell parses it)`);
    return;
  }
  if (!required(v, ["spec", "command"], spec.command)) return;
  const command = readStringList(v, ["spec", "command"], spec.command, { nonEmpty: true });
  if (command && command.length === 0) v.error(["spec", "command"], "must name the program to run, e.g. [node, server.ts]");
  if (typeof spec.args === "string") v.error(["spec", "args"], "must be a list of strings");
  else readStringList(v, ["spec", "args"], spec.args);
}

function checkEnv(v: Validator, value: unknown): void {
  if (value === undefined || value === null) return;
  const entries: [FieldPath, string | undefined, unknown][] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const e = readObjectItem(v, ["spec", "env", i], item);
      if (!e) return;
      warnUnknownFields(v, ["spec", "env", i], e, ["name", "value"]);
      if (!required(v, ["spec", "env", i, "name"], e.name)) return;
      entries.push([["spec", "env", i], readString(v, ["spec", "env", i, "name"], e.name, { nonEmpty: true }), e.value]);
    });
  } else if (isObject(value)) {
    for (const [name, val] of Object.entries(value)) entries.push([["spec", "env", name], name, val]);
  } else {
    v.error(["spec", "env"], "must be a map {NAME: value} or a list [{name, value}]");
    return;
  }
  const seen = new Set<string>();
  for (const [path, name, val] of entries) {
    const valuePath = Array.isArray(value) ? [...path, "value"] : path;
    if (val !== undefined && val !== null && typeof val !== "string") v.error(valuePath, `must be of type string; quote it: ${JSON.stringify(String(val))}`);
    if (name === undefined) continue;
    if (!ENV_NAME.test(name)) v.error(path, `environment variable name ${JSON.stringify(name)} must be letters, digits, '_', '-' or '.', not starting with a digit`);
    else if ((RESERVED_ENV as readonly string[]).includes(name) || name.startsWith(RESERVED_ENV_PREFIX)) v.error(path, `${name} is set by Amime for each instance (its listening port, see docs/config.md) and cannot be set here`);
    else if (seen.has(name)) v.error(path, `Duplicate value: ${name} is set twice`);
    seen.add(name);
  }
}

/** Returns the declared port names → containerPort, for probes to refer to. */
function checkPorts(v: Validator, value: unknown): Map<string, number> {
  const names = new Map<string, number>();
  const numbers = new Set<string>();
  readArray(v, ["spec", "ports"], value)?.forEach((item, i) => {
    const at: FieldPath = ["spec", "ports", i];
    const p = readObjectItem(v, at, item);
    if (!p) return;
    warnUnknownFields(v, at, p, ["name", "containerPort", "protocol"]);
    let port: number | undefined;
    if (required(v, [...at, "containerPort"], p.containerPort)) port = readInt(v, [...at, "containerPort"], p.containerPort, { min: 1, max: 65535 });
    const protocol = readEnum(v, [...at, "protocol"], p.protocol, ["TCP", "UDP", "SCTP"] as const) ?? "TCP";
    if (port !== undefined) {
      if (numbers.has(`${port}/${protocol}`)) v.error([...at, "containerPort"], `Duplicate value: ${port}/${protocol} is declared twice`);
      numbers.add(`${port}/${protocol}`);
    }
    const name = readString(v, [...at, "name"], p.name);
    if (name === undefined) return;
    const problem = ianaServiceNameProblem(name);
    if (problem) v.error([...at, "name"], `port name ${JSON.stringify(name)} ${problem}`);
    else if (names.has(name)) v.error([...at, "name"], `Duplicate value: ${JSON.stringify(name)} is declared twice`);
    else if (port !== undefined) names.set(name, port);
  });
  return names;
}

function checkProbe(v: Validator, path: FieldPath, value: unknown, portNames: Map<string, number>): void {
  const probe = readObject(v, path, value);
  if (!probe) return;
  warnUnknownFields(v, path, probe, PROBE_FIELDS);
  const actions = ["httpGet", "tcpSocket"].filter((k) => probe[k] !== undefined && probe[k] !== null);
  if (actions.length !== 1) {
    v.error(path, actions.length === 0 ? "must set one of httpGet or tcpSocket" : "may set only one of httpGet or tcpSocket");
  }
  for (const a of actions) {
    const act = readObject(v, [...path, a], probe[a]);
    if (!act) continue;
    warnUnknownFields(v, [...path, a], act, a === "httpGet" ? ["path", "port", "scheme"] : ["port"]);
    if (required(v, [...path, a, "port"], act.port)) checkProbePort(v, [...path, a, "port"], act.port, portNames);
    if (a === "httpGet") {
      const p = readString(v, [...path, a, "path"], act.path);
      if (p !== undefined && !p.startsWith("/")) v.error([...path, a, "path"], `must start with "/" (got ${JSON.stringify(p)})`);
      readEnum(v, [...path, a, "scheme"], act.scheme, ["HTTP", "HTTPS"] as const);
    }
  }
  readInt(v, [...path, "initialDelaySeconds"], probe.initialDelaySeconds, { min: 0 });
  for (const f of ["periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"]) readInt(v, [...path, f], probe[f], { min: 1 });
}

function checkProbePort(v: Validator, path: FieldPath, value: unknown, portNames: Map<string, number>): void {
  if (typeof value === "string") {
    if (!portNames.has(value)) v.error(path, `no port named ${JSON.stringify(value)} in spec.ports${portNames.size ? ` (declared: ${[...portNames.keys()].join(", ")})` : ""}`);
    return;
  }
  readInt(v, path, value, { min: 1, max: 65535 });
}
