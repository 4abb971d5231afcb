// Test helper for the analyzer's unit tests: builds resources from plain objects and runs one check.
// Not used by production code.
import type { Diagnostic } from "../../model/diagnostic.ts";
import { parseDocuments } from "../parse.ts";
import type { Json, JsonObject } from "../../model/resource.ts";
import type { Check } from "./context.ts";
import { analyze, runChecks, withNamespace, type AnalyzeOptions } from "./index.ts";

/**
 * Runs one check over the documents as if all passed schema validation (so these tests do not depend
 * on the per-kind validators), or, without `check`, the whole analyzer minus schema findings.
 */
export function findings(docs: readonly JsonObject[], check?: Check, options: AnalyzeOptions = {}): Diagnostic[] {
  const text = docs.map((d) => JSON.stringify(d, null, 2)).join("\n---\n");
  const { resources, diagnostics } = parseDocuments(text, "case.yaml");
  if (diagnostics.length > 0) throw new Error(`bad test input: ${diagnostics[0]?.message}`);
  if (check) {
    const all = resources.map((r) => withNamespace(r, options.namespace || "default"));
    return runChecks(all, all, { ...options, namespace: options.namespace || "default" }, [check]);
  }
  return analyze(resources, options).filter((d) => !d.code.startsWith("AMM0"));
}

/** `CODE level path` per finding, for compact assertions. */
export function summary(ds: readonly Diagnostic[]): string[] {
  return ds.map((d) => `${d.code} ${d.level} ${d.path}`);
}

const NET = "networking.istio.io/v1";

function meta(name: string, namespace?: string, labels?: Record<string, string>): JsonObject {
  const m: JsonObject = { name };
  if (namespace) m.namespace = namespace;
  if (labels) m.labels = labels;
  return m;
}

export function service(name: string, opts: { namespace?: string; selector?: Record<string, string> | null; ports?: JsonObject[] } = {}): JsonObject {
  const spec: JsonObject = { ports: opts.ports ?? [{ name: "http", port: 9080 }] };
  if (opts.selector !== null) spec.selector = opts.selector ?? { app: name };
  return { apiVersion: "v1", kind: "Service", metadata: meta(name, opts.namespace), spec };
}

export function workload(name: string, labels: Record<string, string>, opts: { namespace?: string; replicas?: number } = {}): JsonObject {
  const spec: JsonObject = { command: ["node", "app.js"] };
  if (opts.replicas !== undefined) spec.replicas = opts.replicas;
  return { apiVersion: "amime.dev/v1alpha1", kind: "Workload", metadata: meta(name, opts.namespace, labels), spec };
}

export function deployment(name: string, labels: Record<string, string>, replicas = 1): JsonObject {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: meta(name), spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: "x" }] } } } };
}

export function workloadEntry(name: string, labels: Record<string, string>): JsonObject {
  return { apiVersion: NET, kind: "WorkloadEntry", metadata: meta(name), spec: { address: "10.0.0.1", labels } };
}

export function serviceEntry(name: string, spec: JsonObject, namespace?: string): JsonObject {
  return { apiVersion: NET, kind: "ServiceEntry", metadata: meta(name, namespace), spec: { resolution: "DNS", ports: [{ number: 80, name: "http", protocol: "HTTP" }], ...spec } };
}

export function destinationRule(name: string, host: string, subsets: Record<string, Record<string, string>> = {}, extra: JsonObject = {}, namespace?: string): JsonObject {
  const spec: JsonObject = { host, ...extra };
  const list = Object.entries(subsets).map(([n, labels]): Json => ({ name: n, labels }));
  if (list.length) spec.subsets = list;
  return { apiVersion: NET, kind: "DestinationRule", metadata: meta(name, namespace), spec };
}

export function virtualService(name: string, spec: JsonObject, namespace?: string): JsonObject {
  return { apiVersion: NET, kind: "VirtualService", metadata: meta(name, namespace), spec };
}

/** A VirtualService for `host` with one route rule per entry of `rules`. */
export function routeTo(host: string, subset?: string, weight?: number): JsonObject {
  const destination: JsonObject = { host };
  if (subset) destination.subset = subset;
  const rd: JsonObject = { destination };
  if (weight !== undefined) rd.weight = weight;
  return rd;
}

export function gateway(name: string, namespace?: string): JsonObject {
  return { apiVersion: NET, kind: "Gateway", metadata: meta(name, namespace), spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }] } };
}

export function peerAuthentication(name: string, mode: string, opts: { namespace?: string; selector?: Record<string, string>; portLevelMtls?: JsonObject } = {}): JsonObject {
  const spec: JsonObject = { mtls: { mode } };
  if (opts.selector) spec.selector = { matchLabels: opts.selector };
  if (opts.portLevelMtls) spec.portLevelMtls = opts.portLevelMtls;
  return { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: meta(name, opts.namespace), spec };
}
