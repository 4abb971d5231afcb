// Tracing configured the Istio way: Telemetry resources at mesh, namespace and workload level are
// translated for each sidecar (src/control-plane/translate/telemetry.ts) and the spans the two
// sidecars send to a Zipkin collector show the result: sampling per workload, custom tags from a
// literal, a request header (with its default) and the proxy's environment.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { telemetryConfig } from "../../src/control-plane/translate/telemetry.ts";
import { sidecarProxy, snapshotFrom } from "../../src/control-plane/translate/testing.ts";
import { seededRandom } from "../../src/core/random.ts";
import type { MeshSettings } from "../../src/model/snapshot.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { startCollector, type Collector } from "./collector.ts";
import { clientConfig, fetchText, serverConfig } from "./two-hop.ts";

const tel = (ns: string, name: string, spec: unknown): string => JSON.stringify({ apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name, namespace: ns }, spec }) + "\n---\n";

interface ZSpan {
  traceId: string;
  kind: string;
  localEndpoint: { serviceName: string };
  tags: Record<string, string>;
}

describe("Telemetry API tracing: per-workload sampling and custom tags in received spans", () => {
  let app: Upstream;
  let collector: Collector;
  let client: Sidecar;
  let server: Sidecar;
  const saved = process.env.AMIME_TEST_REGION;

  before(async () => {
    process.env.AMIME_TEST_REGION = "eu-1";
    app = await startUpstream("reviews");
    collector = await startCollector();
    const mesh = { config: { extensionProviders: [{ name: "zipkin-test", zipkin: { service: "127.0.0.1", port: Number(new URL(collector.url).port) } }] } } as Partial<MeshSettings>;
    const snapshot = snapshotFrom(
      tel("istio-system", "mesh", { tracing: [{ providers: [{ name: "zipkin-test" }], randomSamplingPercentage: 0, customTags: { team: { literal: { value: "mesh" } } } }] }) +
        tel("default", "ns", { tracing: [{ enableIstioTags: false, customTags: { region: { environment: { name: "AMIME_TEST_REGION", defaultValue: "nowhere" } } } }] }) +
        tel("default", "productpage", { selector: { matchLabels: { app: "productpage" } }, tracing: [{ randomSamplingPercentage: 100, customTags: { team: { literal: { value: "web" } }, user: { header: { name: "X-User", defaultValue: "anon" } } } }] }),
      [],
      { mesh },
    );
    const forServer = { ...telemetryConfig(snapshot, sidecarProxy({ app: "reviews", version: "v2" })), metricsPort: 0 };
    const forClient = { ...telemetryConfig(snapshot, sidecarProxy({ app: "productpage", version: "v1" })), metricsPort: 0 };
    server = await Sidecar.start(serverConfig(app.port, forServer), { random: seededRandom(11) });
    client = await Sidecar.start(clientConfig(server.ports()["inbound|9080"] as number, forClient), { random: seededRandom(12) });
  });

  after(async () => {
    if (saved === undefined) delete process.env.AMIME_TEST_REGION;
    else process.env.AMIME_TEST_REGION = saved;
    await client?.close(100);
    await server?.close(100);
    await collector?.close();
    await app?.close();
  });

  async function spansOf(traceId: string): Promise<ZSpan[]> {
    await client.telemetry?.flush();
    await server.telemetry?.flush();
    const r = await fetchText(`${collector.url}/api/v2/trace/${traceId}`);
    return r.status === 200 ? (JSON.parse(r.body) as ZSpan[]) : [];
  }

  it("the workload's 100% samples at the client, the server follows its decision; tags merge by level", async () => {
    await send(client.ports().outbound as number, { host: "reviews:9080", path: "/r/1", headers: { "x-user": "jason" } });
    await send(client.ports().outbound as number, { host: "reviews:9080", path: "/r/2" });
    const traceIds = app.requests.slice(-2).map((r) => String(r.headers.traceparent).split("-")[1] as string);
    const [withUser, anon] = await Promise.all(traceIds.map((id) => spansOf(id)));
    const c1 = withUser?.find((s) => s.kind === "CLIENT");
    const s1 = withUser?.find((s) => s.kind === "SERVER");
    assert.ok(c1 && s1, JSON.stringify(withUser));
    assert.deepEqual([c1.tags.team, c1.tags.user, c1.tags.region], ["web", "jason", "eu-1"]);
    assert.deepEqual([s1.tags.team, s1.tags.user, s1.tags.region], ["mesh", undefined, "eu-1"]);
    // The namespace's enableIstioTags: false reaches both (the workload level does not set it).
    assert.deepEqual([c1.tags["istio.namespace"], s1.tags["istio.canonical_service"], s1.tags.node_id], [undefined, undefined, "sidecar~reviews-v2-0.default"]);
    assert.equal(anon?.find((s) => s.kind === "CLIENT")?.tags.user, "anon");
  });

  it("the mesh-wide 0% holds for the server's own decisions: a request without trace context reports nothing", async () => {
    await send(server.ports()["inbound|9080"] as number, { host: "reviews:9080", path: "/direct" });
    const traceId = String(app.requests.at(-1)?.headers.traceparent).split("-")[1] as string;
    assert.match(String(app.requests.at(-1)?.headers.traceparent), /-00$/);
    assert.deepEqual(await spansOf(traceId), []);
  });
});
