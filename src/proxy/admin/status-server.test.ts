import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { StatusServer } from "./status-server.ts";

describe("StatusServer (the read-only status port)", () => {
  const target = { isReady: false, listenerStats: () => [{ name: "outbound", port: 15001, activeConnections: 2, downstream_cx_overflow: 0, downstream_global_cx_overflow: 0 }] };
  const server = new StatusServer(target);
  let base = "";
  before(async () => {
    base = `http://127.0.0.1:${await server.listen(0, "127.0.0.1")}`;
  });
  after(() => server.close());

  it("GET /healthz/ready: 503 until the proxy is ready, then 200 LIVE; HEAD answers the same status", async () => {
    target.isReady = false;
    assert.equal((await fetch(`${base}/healthz/ready`)).status, 503);
    target.isReady = true;
    const r = await fetch(`${base}/healthz/ready`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "LIVE\n");
    assert.equal((await fetch(`${base}/healthz/ready`, { method: "HEAD" })).status, 200);
  });

  it("GET /listeners: the listeners' rows as JSON", async () => {
    const r = await fetch(`${base}/listeners`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), target.listenerStats());
  });

  it("refuses every other method with 405 and every other path (the admin's included) with 404", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      for (const path of ["/healthz/ready", "/listeners"]) {
        const r = await fetch(`${base}${path}`, { method });
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.headers.get("allow"), "GET, HEAD");
      }
    }
    for (const path of ["/drain", "/drain_listeners", "/config_dump", "/stats", "/ready", "/"]) {
      assert.equal((await fetch(`${base}${path}`)).status, 404, path);
      assert.equal((await fetch(`${base}${path}`, { method: "POST" })).status, 404, `POST ${path}`);
    }
  });
});
