// PushClient in-process against a real control plane, on a fake clock for its reconnect timer:
// it waits for registration, starts the sidecar on the first config, ACKs, survives the control
// plane going away (still serving), and resyncs when it comes back on the same port.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { seededRandom } from "../../src/core/random.ts";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { PushClient } from "../../src/proxy/control/push-client.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { send, type Upstream } from "../proxy/sidecar-harness.ts";
import { meshProxy, reviewsConfig, reviewsTo, type ReviewsConfig, waitFor } from "./mesh-harness.ts";

let dir: string;
let app: Upstream;
let fixture: ReviewsConfig;

before(async () => {
  fixture = await reviewsConfig("amime-pc");
  ({ dir, app } = fixture);
});
after(() => fixture.close());

it("waits for registration, ACKs, keeps serving through an outage, reconnects with backoff and resyncs", async () => {
  // A state dir keeps the token key, so the client's credential is still good after the restart.
  const stateDir = join(dir, "state");
  let cp = await ControlPlane.start({ port: 0, configPaths: [join(dir, "services.yaml"), join(dir, "vs.yaml")], debounceMs: 5, watch: false, stateDir });
  const clock = new FakeClock();
  const client = await meshProxy("productpage", "v1");
  const reviews = await meshProxy("reviews", "v1", { servicePort: 9080, appPort: app.port });
  const token = cp.mintProxyToken({ node: client.nodeId, namespace: "default", serviceAccount: "productpage" });
  const pc = new PushClient({ url: cp.url, ca: cp.trustBundle, node: client.nodeId, token, clock, random: seededRandom(3), backoffBaseMs: 100, backoffMaxMs: 1000 }).start();
  // The reviews instance is registered (for endpoints) but its sidecar is the test itself: point
  // the endpoint straight at the app.
  reviews.registration.instance.ports = { "9080": app.port };
  // No sidecar in front of the app, so no mutual TLS either: Istio's endpoint label says so.
  reviews.registration.instance.labels["security.istio.io/tlsMode"] = "disabled";
  try {
    await waitFor("stream open", () => pc.connected);
    assert.equal(pc.sidecar, null, "no config before registration");
    cp.register("default", client.name, client.registration);
    cp.register("default", reviews.name, reviews.registration);
    const sidecar = await pc.ready;
    await waitFor("ACK", () => cp.proxies().find((p) => p.node === client.nodeId)?.state === "SYNCED");
    assert.match((await send(client.outboundPort, { host: "reviews:9080", path: "/a" })).body, /^reviews-v1 GET \/a/);

    const port = cp.port;
    await cp.close();
    await waitFor("stream lost", () => !pc.connected);
    // The kept ACK connection's idle timer (on the same clock) goes when the control plane's close reaches that socket.
    await waitFor("one reconnect timer armed, nothing else", () => clock.pending() === 1);
    assert.ok(pc.lastDelayMs >= 50 && pc.lastDelayMs < 100, `first delay ${pc.lastDelayMs}`);
    // Refused connects back off: 100, 200, 400 … ceilings.
    clock.advance(pc.lastDelayMs);
    await waitFor("second attempt fails", () => pc.lastDelayMs >= 100 && clock.pending() === 1);
    assert.ok(pc.lastDelayMs < 200);
    assert.match((await send(client.outboundPort, { host: "reviews:9080", path: "/b" })).body, /^reviews-v1 GET \/b/, "serves its last good config");

    cp = await ControlPlane.start({ port, configPaths: [join(dir, "services.yaml"), join(dir, "vs.yaml")], debounceMs: 5, watch: false, stateDir });
    cp.register("default", client.name, client.registration);
    cp.register("default", reviews.name, reviews.registration);
    clock.advance(1000);
    await waitFor("resynced", () => cp.proxies().find((p) => p.node === client.nodeId && p.connected)?.state === "SYNCED");
    assert.equal(pc.connects, 2);
    assert.equal(pc.sidecar, sidecar, "the same sidecar, reconfigured in place");
    assert.match((await send(client.outboundPort, { host: "reviews:9080", path: "/c" })).body, /^reviews-v1 GET \/c/);
  } finally {
    await pc.close(100);
    await cp.close();
  }
});

it("ACKs ride one kept-alive connection per control plane, not a TLS handshake each", async () => {
  const cp = await ControlPlane.start({ port: 0, configPaths: [join(dir, "services.yaml"), join(dir, "vs.yaml")], debounceMs: 5, watch: false });
  // Every TCP connection this process opens to the control plane (stream and ACKs; the test's own calls are in-process).
  let connections = 0;
  const count = (m: unknown): void => {
    const s = (m as { socket: Socket }).socket;
    s.once("connect", () => {
      if (s.remotePort === cp.port) connections++;
    });
  };
  subscribe("net.client.socket", count);
  const client = await meshProxy("productpage", "v1");
  const token = cp.mintProxyToken({ node: client.nodeId, namespace: "default", serviceAccount: "productpage" });
  const pc = new PushClient({ url: cp.url, ca: cp.trustBundle, node: client.nodeId, token }).start();
  const state = () => cp.proxies().find((p) => p.node === client.nodeId);
  try {
    cp.register("default", client.name, client.registration);
    await pc.ready;
    await waitFor("first ACK", () => state()?.state === "SYNCED");
    for (const subset of ["v2", "v1", "v2"]) {
      const r = await cp.apply(reviewsTo(subset), "vs.yaml");
      assert.equal(r.applied, true, JSON.stringify(r.diagnostics));
      await waitFor(`ACK of ${subset}`, () => state()?.state === "SYNCED" && state()?.ackedVersion === r.version);
    }
    assert.equal(connections, 2, "the stream and one connection for all four ACKs");
  } finally {
    unsubscribe("net.client.socket", count);
    await pc.close(100);
    await cp.close();
  }
});

it("collects around the parse of a full state of a megabyte or more, not around a change", async () => {
  const cp = await ControlPlane.start({ port: 0, configPaths: [join(dir, "services.yaml"), join(dir, "vs.yaml")], debounceMs: 5, watch: false });
  const many = Array.from({ length: 900 }, (_, i) => `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: ns-${i % 10}}\nspec:\n  selector: {app: svc-${i}}\n  ports: [{name: http, port: 8080}]`);
  assert.equal((await cp.apply(many.join("\n---\n"), "many.yaml")).applied, true);
  const client = await meshProxy("productpage", "v1");
  const token = cp.mintProxyToken({ node: client.nodeId, namespace: "default", serviceAccount: "productpage" });
  let collections = 0;
  const pc = new PushClient({ url: cp.url, ca: cp.trustBundle, node: client.nodeId, token, collect: () => void collections++ }).start();
  const state = () => cp.proxies().find((p) => p.node === client.nodeId);
  try {
    cp.register("default", client.name, client.registration);
    await pc.ready;
    await waitFor("first ACK", () => state()?.state === "SYNCED");
    assert.equal(collections, 2, `before the full state's parse and before its apply (config ${JSON.stringify(cp.configFor(client.nodeId)).length} characters)`);
    const r = await cp.apply(reviewsTo("v2"), "vs.yaml");
    await waitFor("ACK of the change", () => state()?.state === "SYNCED" && state()?.ackedVersion === r.version);
    assert.equal(collections, 2, "none for a change");
  } finally {
    await pc.close(100);
    await cp.close();
  }
});
