// PushClient on the way to its first config, against real sockets, on a fake clock for its timers: a
// sidecar that is not ready never waits silently for good. A first config it cannot start (a listener's
// port held by another process) is tried again with backoff until it starts; a control plane that
// accepts the stream's connection and never answers is given up after 10 s (Envoy's connect timeout)
// and tried again.
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { seededRandom } from "../../src/core/random.ts";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { PushClient } from "../../src/proxy/control/push-client.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { send, type Upstream } from "../proxy/sidecar-harness.ts";
import { meshProxy, reviewsConfig, type ReviewsConfig, waitFor } from "./mesh-harness.ts";

let dir: string;
let app: Upstream;
let fixture: ReviewsConfig;

before(async () => {
  fixture = await reviewsConfig("amime-pcs");
  ({ dir, app } = fixture);
});
after(() => fixture.close());

const listening = (server: Server, port = 0): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
const closed = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

it("a first config whose listener cannot bind (its port held elsewhere) is tried again with backoff, NACKed once, ACKed once it starts", async () => {
  const cp = await ControlPlane.start({ port: 0, configPaths: [join(dir, "services.yaml"), join(dir, "vs.yaml")], debounceMs: 5, watch: false });
  const clock = new FakeClock();
  const client = await meshProxy("productpage", "v1");
  const reviews = await meshProxy("reviews", "v1", { servicePort: 9080, appPort: app.port });
  reviews.registration.instance.ports = { "9080": app.port };
  reviews.registration.instance.labels["security.istio.io/tlsMode"] = "disabled";
  // Another process holds the outbound listener's port when the first config arrives.
  const squatter = createServer();
  await listening(squatter, client.outboundPort);
  const logs: string[] = [];
  const token = cp.mintProxyToken({ node: client.nodeId, namespace: "default", serviceAccount: "productpage" });
  const pc = new PushClient({ url: cp.url, ca: cp.trustBundle, node: client.nodeId, token, clock, random: seededRandom(5), log: (l) => logs.push(l) }).start();
  const state = () => cp.proxies().find((p) => p.node === client.nodeId);
  let open = true;
  try {
    cp.register("default", client.name, client.registration);
    cp.register("default", reviews.name, reviews.registration);
    await waitFor("NACK", () => state()?.state === "NACK");
    assert.match(state()?.error ?? "", /EADDRINUSE/);
    await waitFor("the retry's log line", () => logs.some((l) => l.includes("not ready, trying again in 1 s")));
    assert.equal(pc.sidecar, null);
    // Still held at the first retry: tried again, said again, not NACKed again (the NACK stands).
    clock.advance(1000);
    await waitFor("the second retry's log line", () => logs.some((l) => l.includes("trying again in 2 s")));
    assert.equal(state()?.state, "NACK");
    await closed(squatter);
    open = false;
    clock.advance(2000);
    const sidecar = await pc.ready;
    await waitFor("ACK", () => state()?.state === "SYNCED");
    assert.equal(pc.sidecar, sidecar);
    assert.match((await send(client.outboundPort, { host: "reviews:9080", path: "/a" })).body, /^reviews-v1 GET \/a/);
  } finally {
    if (open) await closed(squatter);
    await pc.close(100);
    await cp.close();
  }
});

it("a control plane that accepts the stream's connection and never answers is given up after 10 s, logged, and tried again", async () => {
  const sockets: Socket[] = [];
  let closes = 0;
  const silent = createServer((s) => void sockets.push(s.on("error", () => {}).on("close", () => closes++).resume()));
  const port = await listening(silent);
  const clock = new FakeClock();
  const logs: string[] = [];
  const pc = new PushClient({ url: `http://127.0.0.1:${port}`, node: "sidecar~productpage-v1-0.default", token: "t", clock, random: seededRandom(5), backoffBaseMs: 100, log: (l) => logs.push(l) }).start();
  try {
    await waitFor("the stream's connection", () => sockets.length === 1);
    clock.advance(9_999);
    assert.equal(logs.length, 0, "still waiting for the head");
    clock.advance(1);
    await waitFor("the log line", () => logs.find((l) => l.includes("no answer within 10000 ms") && l.includes("no config yet")));
    await waitFor("the first connection closed by the sidecar", () => closes === 1);
    clock.advance(pc.lastDelayMs);
    await waitFor("a second connection", () => sockets.length === 2);
    assert.equal(pc.connected, false);
  } finally {
    await pc.close(100);
    for (const s of sockets) s.destroy();
    await closed(silent);
  }
});
