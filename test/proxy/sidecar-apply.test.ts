// Config pushes that cannot be applied must leave the running config exactly as it was: a new
// listener whose port is taken NACKs, and the old routes, clusters and listeners keep serving.
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { forward, proxyConfig, raw, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const catchAll = { headers: [], queryParams: [], ignoreUriCase: false };

describe("sidecar applyConfig", () => {
  let v1: Upstream;
  let v2: Upstream;
  let proxy: RunningProxy;
  let squatter: Server;
  let takenPort: number;

  before(async () => {
    v1 = await startUpstream("v1");
    v2 = await startUpstream("v2");
    proxy = await startProxy(proxyConfig({ version: "1", virtualHosts: [{ domains: ["svc"], routes: [route("r", catchAll, forward("c1"))] }], clusters: [{ name: "c1", endpoints: [{ port: v1.port }] }] }));
    squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
    takenPort = (squatter.address() as AddressInfo).port;
  });

  after(async () => {
    await proxy.close();
    await v1.close();
    await v2.close();
    squatter.close();
  });

  const get = async (): Promise<string> => (await raw(proxy.port, "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n")).text;

  it("a config whose new listener cannot bind is NACKed and changes nothing", async () => {
    const next = proxyConfig({ version: "2", virtualHosts: [{ domains: ["svc"], routes: [route("r", catchAll, forward("c2"))] }], clusters: [{ name: "c2", endpoints: [{ port: v2.port }] }] }) as { listeners: unknown[] };
    const outbound = (next.listeners[0] as Record<string, unknown>);
    outbound.port = proxy.port;
    next.listeners.push({ name: "extra", direction: "outbound", address: "127.0.0.1", port: takenPort, protocol: "http", routeConfigName: "outbound" });
    const r = await proxy.sidecar.applyConfig(next);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, /EADDRINUSE|listen/);
    assert.equal(proxy.sidecar.config.version, "1");
    assert.match(await get(), /^HTTP\/1\.1 200[\s\S]*\r\n\r\nv1 GET \//);
  });

  it("a good config afterwards applies: new clusters, same listener port", async () => {
    const next = proxyConfig({ version: "3", virtualHosts: [{ domains: ["svc"], routes: [route("r", catchAll, forward("c2"))] }], clusters: [{ name: "c2", endpoints: [{ port: v2.port }] }] }) as { listeners: Record<string, unknown>[] };
    next.listeners[0]!.port = proxy.port;
    const r = await proxy.sidecar.applyConfig(next);
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    assert.equal(proxy.sidecar.config.version, "3");
    assert.match(await get(), /\r\n\r\nv2 GET \//);
  });
});
