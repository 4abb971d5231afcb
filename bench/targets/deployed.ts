// The sidecar as deployed: the config the control plane pushes to Bookinfo's productpage sidecar,
// produced by translation (samples/bookinfo: Services, Workloads, DestinationRules → snapshot →
// translate()), with the telemetry `amime up` configures: Istio's standard metrics on and tracing
// at Istio's default sampling (1 %) to a Zipkin collector. Requests go to `reviews:9080` through
// the outbound listener, Istio's default route (retries, no timeout) to the reviews cluster.
//
// Only the environment is rewritten after translation, as a runtime would place the process: every
// listener on 127.0.0.1 (the outbound one on the bench's port, the inbound one and the Prometheus
// listener on any free port), the reviews endpoints replaced by the bench's upstream, and spans
// sent to that upstream (nginx answers 200 to the Zipkin POSTs).
//
// Variants (one bench row each):
//   deployed   as above
//   log        plus Istio's access log (MeshConfig accessLogFile /dev/stdout; the bench drains stdout)
//   off        telemetry off: a mesh-wide Telemetry disabling every metric, MeshConfig enableTracing false
// `extraServices` N adds N services beside Bookinfo (bench/memory.ts's 1,000-service config): each a
// Service, a DestinationRule with subsets v1 and v2 and a VirtualService (a header rule, then v1 with a
// timeout), in ten namespaces, with one instance per subset, as bench/push.ts's large config.
import { join } from "node:path";
import { translate } from "../../src/control-plane/translate/index.ts";
import type { MeshConfig } from "../../src/model/specs/mesh-config.ts";
import { buildSnapshot } from "../../src/model/snapshot.ts";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { WorkloadInstance } from "../../src/model/registry.ts";
import { localMeshTelemetry } from "../../src/runtime/local/local-mesh.ts";
import { Mesh } from "../../src/testing/simulation.ts";
import { manyServicesYaml } from "../lib/many-services.ts";

export type DeployedVariant = "deployed" | "log" | "off";

/** The authority the bench's clients send (the service the productpage app calls). */
export const DEPLOYED_AUTHORITY = "reviews:9080";

const TELEMETRY_OFF = `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  metrics:
  - providers:
    - name: prometheus
    overrides:
    - disabled: true
`;

export function deployedProxyConfig(root: string, listenPort: number, upstreamPort: number, variant: DeployedVariant, extraServices = 0): ProxyConfig {
  const bookinfo = join(root, "samples", "bookinfo");
  const extra = manyServices(extraServices);
  const mesh = new Mesh([join(bookinfo, "services.yaml"), join(bookinfo, "workloads.yaml"), join(bookinfo, "destination-rule-all.yaml")], {
    yaml: [...(variant === "off" ? [TELEMETRY_OFF] : []), ...(extraServices > 0 ? [extra.yaml] : [])],
    instances: extra.instances,
  });
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  const meshConfig: MeshConfig = variant === "log" ? { accessLogFile: "/dev/stdout" } : variant === "off" ? { enableTracing: false } : {};
  const snapshot = buildSnapshot(mesh.resources, { services: [], instances: mesh.instances }, {
    mesh: { config: meshConfig, ...(variant === "off" ? {} : { telemetry: localMeshTelemetry(upstream, undefined) }) },
  });
  const config = translate(snapshot, mesh.sidecar("productpage-v1"));
  for (const l of config.listeners) {
    l.address = "127.0.0.1";
    l.port = l.direction === "outbound" ? listenPort : 0;
  }
  config.telemetry = { ...config.telemetry, metricsAddress: "127.0.0.1", metricsPort: 0 };
  for (const name of Object.keys(config.endpoints)) {
    if (!name.endsWith("|reviews.default.svc.cluster.local")) continue;
    config.endpoints[name] = [{ address: "127.0.0.1", port: upstreamPort, weight: 1, labels: { app: "reviews", version: "v1" }, healthy: true }];
  }
  return config;
}

function manyServices(n: number): { yaml: string; instances: WorkloadInstance[] } {
  const instances: WorkloadInstance[] = [];
  for (let i = 0; i < n; i++) {
    const [s, ns] = [`svc-${i}`, `ns-${i % 10}`];
    for (const [k, version] of ["v1", "v2"].entries()) {
      instances.push({ name: `${s}-${version}-0`, namespace: ns, labels: { app: s, version }, serviceAccount: "default", address: `10.${2 + (i >> 8)}.${i & 255}.${k + 1}`, ready: true });
    }
  }
  return { yaml: manyServicesYaml(n), instances };
}
