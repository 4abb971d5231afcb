// Test helpers for translation: a snapshot from inline YAML, proxies, and lookups into a ProxyConfig.
import { parseDocuments } from "../../config/parse.ts";
import type { ForwardAction, ProxyConfig, Route, VirtualHost } from "../../model/proxy-config.ts";
import type { WorkloadInstance } from "../../model/registry.ts";
import { buildSnapshot, type Snapshot, type SnapshotOptions } from "../../model/snapshot.ts";
import type { ProxyInput } from "./common.ts";

export function snapshotFrom(yaml: string, instances: WorkloadInstance[] = [], options: SnapshotOptions = {}): Snapshot {
  const { resources, diagnostics } = parseDocuments(yaml, "test.yaml");
  const errors = diagnostics.filter((d) => d.level === "error");
  if (errors.length > 0) throw new Error(`bad test YAML: ${errors.map((d) => d.message).join("; ")}`);
  return buildSnapshot(resources, { services: [], instances }, options);
}

export function k8sService(name: string, ns = "default", ports: { name: string; port: number; targetPort?: number | string }[] = [{ name: "http", port: 9080 }], selector: Record<string, string> = { app: name }): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: ns }, spec: { ports, selector } }) + "\n---\n";
}

export function inst(app: string, version: string, address: string, extra: Partial<WorkloadInstance> = {}): WorkloadInstance {
  return { name: `${app}-${version}`, namespace: "default", labels: { app, version }, serviceAccount: app, address, ready: true, ...extra };
}

export function sidecarProxy(labels: Record<string, string>, ns = "default", extra: Partial<ProxyInput> = {}): ProxyInput {
  const name = `${labels.app ?? "app"}-${labels.version ?? "v1"}`;
  return { id: `sidecar~${name}.${ns}`, kind: "sidecar", workload: name, namespace: ns, labels, serviceAccount: labels.app ?? "default", trustDomain: "cluster.local", ip: "127.0.0.1", ...extra };
}

export function findVhost(cfg: ProxyConfig, name: string, routeConfig = "outbound"): VirtualHost | undefined {
  return cfg.routes.find((r) => r.name === routeConfig)?.virtualHosts.find((v) => v.name === name);
}

export function forwardOf(r: Route | undefined): ForwardAction {
  if (!r || r.action.kind !== "forward") throw new Error(`not a forward route: ${JSON.stringify(r)}`);
  return r.action;
}
