// Which config applies to a service or workload, for its detail page: VirtualServices whose hosts
// name the service, DestinationRules whose host is it, and the workload-scoped policies
// (AuthorizationPolicy, PeerAuthentication, RequestAuthentication, Telemetry, Sidecar…) whose
// namespace and selector take in its workloads — each with the analyze messages about it. Host
// names resolve as Istio's do: a short name in the config's own namespace, `name.ns`, an FQDN, or
// a `*.` wildcard. Pure.
import type { Diagnostic } from "../../model/diagnostic.ts";

export interface ConfigItem {
  kind: string;
  namespace: string;
  name: string;
  body: Record<string, unknown>;
  source: { file: string; line: number };
}

export interface AppliedConfig {
  kind: string;
  namespace: string;
  name: string;
  source: { file: string; line: number };
  /** Why it applies: `hosts[0] reviews`, `selector app=reviews`, `namespace-wide`. */
  why: string;
  diagnostics: Diagnostic[];
}

const SELECTOR_KINDS = new Set(["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "Telemetry", "Sidecar", "EnvoyFilter", "WasmPlugin"]);

/** A config host as the FQDN it names, from the namespace the config lives in. */
export function fqdnOf(host: string, namespace: string, domainSuffix = "cluster.local"): string {
  if (host.startsWith("*")) return host;
  const dots = host.split(".").length - 1;
  if (dots === 0) return `${host}.${namespace}.svc.${domainSuffix}`;
  if (dots === 1) return `${host}.svc.${domainSuffix}`;
  return host;
}

export function hostMatches(configHost: string, configNamespace: string, service: string, domainSuffix = "cluster.local"): boolean {
  const h = fqdnOf(configHost, configNamespace, domainSuffix);
  if (h === "*") return true;
  if (h.startsWith("*.")) return service.endsWith(h.slice(1));
  return h === service;
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** Every destination host of a VirtualService's http, tcp and tls routes. */
function routeHosts(spec: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const section of ["http", "tcp", "tls"]) {
    for (const rule of Array.isArray(spec[section]) ? (spec[section] as unknown[]) : []) {
      for (const dest of Array.isArray(obj(rule).route) ? (obj(rule).route as unknown[]) : []) {
        const host = obj(obj(dest).destination).host;
        if (typeof host === "string") out.push(host);
      }
    }
  }
  return out;
}

export interface Subject {
  /** Service host (FQDN), when the page is a service's. */
  service?: string;
  namespace: string;
  /** Labels of each workload behind it (one entry per distinct label set). */
  workloadLabels: readonly Record<string, string>[];
}

/** The config items that apply to `who`, in the order given, with their diagnostics. */
export function appliedConfig(items: readonly ConfigItem[], diagnostics: readonly Diagnostic[], who: Subject, rootNamespace = "istio-system"): AppliedConfig[] {
  const out: AppliedConfig[] = [];
  for (const it of items) {
    const spec = obj(it.body.spec);
    let why: string | null = null;
    if (who.service !== undefined && it.kind === "VirtualService") {
      // A VirtualService bound to gateways only (no `mesh`) does not steer the mesh's calls to
      // its hosts; it applies to this service when one of its routes sends traffic here.
      const gateways = strings(spec.gateways);
      if (gateways.length > 0 && !gateways.includes("mesh")) {
        if (routeHosts(spec).some((h) => hostMatches(h, it.namespace, who.service as string))) why = `routes to it at gateway ${gateways.join(", ")}`;
      } else {
        const hosts = strings(spec.hosts);
        const i = hosts.findIndex((h) => hostMatches(h, it.namespace, who.service as string));
        if (i >= 0) why = `hosts[${i}] ${hosts[i]}`;
      }
    } else if (who.service !== undefined && it.kind === "DestinationRule") {
      const host = typeof spec.host === "string" ? spec.host : "";
      if (host !== "" && hostMatches(host, it.namespace, who.service)) why = `host ${host}`;
    } else if (SELECTOR_KINDS.has(it.kind) && (it.namespace === who.namespace || it.namespace === rootNamespace)) {
      const selector = obj(obj(spec.selector).matchLabels ?? obj(spec.workloadSelector).labels);
      const keys = Object.keys(selector);
      if (keys.length === 0) why = it.namespace === rootNamespace ? "mesh-wide (root namespace)" : "namespace-wide";
      else if (who.workloadLabels.some((labels) => keys.every((k) => labels[k] === selector[k]))) why = `selector ${keys.map((k) => `${k}=${String(selector[k])}`).join(",")}`;
    }
    if (why === null) continue;
    const id = `${it.kind} ${it.namespace}/${it.name}`;
    out.push({ kind: it.kind, namespace: it.namespace, name: it.name, source: it.source, why, diagnostics: diagnostics.filter((d) => d.resource === id) });
  }
  return out;
}

/** Every resource with its own diagnostics (the Config page), plus diagnostics about no resource. */
export function configRows(items: readonly ConfigItem[], diagnostics: readonly Diagnostic[]): { rows: (Omit<ConfigItem, "body"> & { diagnostics: Diagnostic[] })[]; other: Diagnostic[] } {
  const ids = new Set(items.map((it) => `${it.kind} ${it.namespace}/${it.name}`));
  const rows = items.map((it) => {
    const id = `${it.kind} ${it.namespace}/${it.name}`;
    return { kind: it.kind, namespace: it.namespace, name: it.name, source: it.source, diagnostics: diagnostics.filter((d) => d.resource === id) };
  });
  return { rows, other: diagnostics.filter((d) => !ids.has(d.resource)) };
}
