// x-envoy-upstream-service-time through two sidecars (client → server → app): Envoy's router
// sets the header, it never appends, so the app's client sees exactly one, written by the sidecar
// nearest to it, whatever the app or the next sidecar sent. Checked on the raw HTTP/1.1 response
// (every header line counted) and on an HTTP/2 (h2c) downstream.
import assert from "node:assert/strict";
import { connect as h2connect } from "node:http2";
import { after, before, describe, it } from "node:test";
import { startUpstream, type Upstream } from "./sidecar-harness.ts";
import { dial, readUntil } from "../protocols/harness.ts";
import { startTwoHop, type TwoHop } from "../telemetry/two-hop.ts";

const NAME = "x-envoy-upstream-service-time";

describe("x-envoy-upstream-service-time through two sidecars", () => {
  let app: Upstream;
  let mesh: TwoHop;

  before(async () => {
    // The app sends its own copy, which no proxy may pass on.
    app = await startUpstream("reviews", (_req, res) => {
      res.setHeader(NAME, "999999");
      res.end("ok");
    });
    mesh = await startTwoHop(app.port, { metrics: { overrides: [{ metric: "ALL_METRICS", disabled: true }] } });
  });

  after(async () => {
    await mesh.close();
    await app.close();
  });

  it("HTTP/1.1: one header, the client sidecar's", async () => {
    const s = await dial(mesh.clientPort);
    s.write("GET /reviews/1 HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n");
    const raw = (await readUntil(s, (b) => b.includes("\r\n\r\nok"))).toString("latin1");
    s.destroy();
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const values = raw.split("\r\n").filter((l) => l.toLowerCase().startsWith(`${NAME}:`));
    assert.equal(values.length, 1, raw);
    assert.match(values[0] as string, /^x-envoy-upstream-service-time: \d+$/i);
    assert.notEqual(values[0]?.split(": ")[1], "999999");
  });

  it("HTTP/2 downstream: one header", async () => {
    const session = h2connect(`http://127.0.0.1:${mesh.clientPort}`);
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = session.request({ ":path": "/reviews/1", ":authority": "reviews:9080" });
        req.on("response", (h) => resolve(h as Record<string, unknown>));
        req.on("error", reject);
        req.resume();
        req.end();
      });
      assert.equal(headers[":status"], 200);
      // node:http2 joins repeated headers with ", ": one value means one header.
      assert.match(String(headers[NAME]), /^\d+$/);
      assert.notEqual(headers[NAME], "999999");
    } finally {
      session.close();
    }
  });
});
