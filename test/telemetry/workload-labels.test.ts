// Istio labels metrics by workload, not by replica: with two replicas of httpbin-v1, the client
// sidecar's /stats/prometheus has one destination_workload="httpbin-v1" series, not one per
// instance (httpbin-v1-0, httpbin-v1-1). The chain is the real one: the local runtime's plan and
// registrations for a `Workload` with `replicas: 2`, the control plane's instance registry,
// translation, and a sidecar on real sockets. The replicas here run without a sidecar, so no peer
// metadata comes back and the destination labels come from the endpoint (as they do for TCP, and
// for connect failures and timeouts). Their registrations say so with Istio's tlsMode label, so the
// client does not originate auto mTLS toward them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseDocuments } from "../../src/config/parse.ts";
import { parsePrometheusText } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { InstanceRegistry } from "../../src/control-plane/registry/instance-registry.ts";
import { translate } from "../../src/control-plane/translate/index.ts";
import { sidecarProxy, snapshotFrom } from "../../src/control-plane/translate/testing.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { planInstances, registration } from "../../src/runtime/local/plan.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { scrape } from "./two-hop.ts";

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: httpbin}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
`;
const WORKLOAD = `apiVersion: amime.dev/v1alpha1
kind: Workload
metadata: {name: httpbin-v1, labels: {app: httpbin, version: v1}}
spec:
  replicas: 2
  serviceAccount: httpbin
  command: [node, httpbin.ts]
  ports: [{name: http, containerPort: 8080}]
`;

describe("workload labels with two replicas", () => {
  const replicas: Upstream[] = [];
  let client: Sidecar;

  before(async () => {
    for (const name of ["httpbin-v1-0", "httpbin-v1-1"]) replicas.push(await startUpstream(name));
    const plans = planInstances(parseDocuments(WORKLOAD, "httpbin.yaml").resources);
    assert.deepEqual(plans.map((p) => p.name), ["httpbin-v1-0", "httpbin-v1-1"]);
    const registry = new InstanceRegistry();
    plans.forEach((p, i) => {
      const port = (replicas[i] as Upstream).port;
      const ports = { app: new Map([[8080, port]]), inbound: new Map([[8080, port]]), outbound: 0, admin: 0, tcpPool: [] };
      const reg = registration(p, ports, true);
      reg.instance.labels["security.istio.io/tlsMode"] = "disabled";
      registry.put(p.namespace, p.name, reg);
    });
    const config = translate(snapshotFrom(SERVICE, [...registry.registry().instances]), sidecarProxy({ app: "curl", version: "v1" }, "default", { workload: "curl", id: "sidecar~curl-0.default", outboundPort: 0 }));
    client = await Sidecar.start({ ...config, telemetry: { ...config.telemetry, metricsPort: 0 } });
  });

  after(async () => {
    await client.close(100);
    for (const r of replicas) await r.close();
  });

  it("one destination_workload series for both replicas", async () => {
    const port = client.ports().outbound as number;
    // The cluster balances by least request with random choices (Istio's default): 6 requests all
    // went to one replica in ≈ 3 % of runs (2 × 2⁻⁶, one CI retry); with 40 that is ≈ 2 × 10⁻¹².
    for (let i = 0; i < 40; i++) assert.equal((await send(port, { host: "httpbin:8000", path: "/get" })).status, 200);
    assert.ok(replicas.every((r) => r.requests.length > 0), "both replicas served");

    const series = [...parsePrometheusText(await scrape(client)).values()]
      .flatMap((f) => f.samples)
      .filter((s) => s.name === "istio_requests_total" && s.labels.reporter === "source");
    assert.deepEqual(
      series.map((s) => [s.labels.destination_workload, s.labels.destination_canonical_service, s.labels.destination_canonical_revision, s.labels.destination_app, s.labels.destination_version, s.labels.source_workload, s.value]),
      [["httpbin-v1", "httpbin", "v1", "httpbin", "v1", "curl", 40]],
    );
  });
});
