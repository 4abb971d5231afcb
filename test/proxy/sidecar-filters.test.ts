// The listener's HTTP filter list comes from config: a list without "fault" serves a route whose
// fault policy would abort every request, a list with it aborts; a pushed config naming a filter
// the proxy does not have is NACKed with the field path and the running config keeps serving.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { forward, proxyConfig, raw, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const catchAll = { headers: [], queryParams: [], ignoreUriCase: false };

function withFilters(version: string, port: number, upstreamPort: number, names: string[]): Record<string, unknown> {
  const c = proxyConfig({
    version,
    virtualHosts: [{ domains: ["svc"], routes: [route("r", catchAll, forward("c1", { fault: { abort: { httpStatus: 418, percentage: 100 } } }))] }],
    clusters: [{ name: "c1", endpoints: [{ port: upstreamPort }] }],
  }) as { listeners: Record<string, unknown>[] };
  c.listeners[0]!.port = port;
  c.listeners[0]!.httpFilters = names.map((name) => ({ name }));
  return c;
}

describe("HTTP filter lists from config", () => {
  let up: Upstream;
  let proxy: RunningProxy;

  before(async () => {
    up = await startUpstream("v1");
    proxy = await startProxy(withFilters("1", 0, up.port, ["router"]));
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  const get = async (): Promise<string> => (await raw(proxy.port, "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n")).text;

  it("without the fault filter in the list, the route's abort is not applied", async () => {
    assert.match(await get(), /^HTTP\/1\.1 200[\s\S]*\r\n\r\nv1 GET \//);
  });

  it("with cors → fault → router, it is", async () => {
    const r = await proxy.sidecar.applyConfig(withFilters("3", proxy.port, up.port, ["cors", "fault", "router"]));
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    assert.match(await get(), /^HTTP\/1\.1 418 /);
  });

  it("an unknown filter is NACKed with its field path; the running list keeps serving", async () => {
    const r = await proxy.sidecar.applyConfig(withFilters("4", proxy.port, up.port, ["oauth2", "router"]));
    assert.equal(r.ok, false);
    assert.equal(r.ok ? "" : r.error, 'listeners[0].httpFilters[0].name: unknown HTTP filter "oauth2" (known: jwt_authn, ext_authz, rbac, local_ratelimit, ratelimit, cors, fault, router)');
    assert.equal(proxy.sidecar.config.version, "3");
    assert.match(await get(), /^HTTP\/1\.1 418 /);
  });
});

describe("network filter lists from config", () => {
  let proxy: RunningProxy;
  let up: Upstream;

  before(async () => {
    up = await startUpstream("v1");
    proxy = await startProxy(withFilters("1", 0, up.port, ["router"]));
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  it("a TCP listener naming an unknown network filter is NACKed with its field path before anything binds", async () => {
    const next = withFilters("2", proxy.port, up.port, ["router"]) as { listeners: Record<string, unknown>[] };
    next.listeners.push({ name: "db", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "c1", weight: 100 }] }, networkFilters: [{ name: "ratelimit" }, { name: "tcp_proxy" }] });
    const r = await proxy.sidecar.applyConfig(next);
    assert.equal(r.ok, false);
    assert.equal(r.ok ? "" : r.error, 'listeners[1].networkFilters[0].name: unknown network filter "ratelimit" (known: ext_authz, rbac, tcp_proxy)');
    assert.equal(proxy.sidecar.config.version, "1");
    assert.equal(proxy.sidecar.listenerStats().length, 1);
  });

  it("a TCP listener with tcp_proxy relays bytes to its cluster", async () => {
    const next = withFilters("3", proxy.port, up.port, ["router"]) as { listeners: Record<string, unknown>[] };
    next.listeners.push({ name: "db", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "c1", weight: 100 }] }, networkFilters: [{ name: "tcp_proxy" }] });
    const r = await proxy.sidecar.applyConfig(next);
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    const tcpPort = proxy.sidecar.listenerStats().find((l) => l.name === "db")!.port;
    // The TCP listener relays the HTTP bytes as they are to the upstream (no routing, no fault).
    assert.match((await raw(tcpPort, "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n")).text, /^HTTP\/1\.1 200[\s\S]*\r\n\r\nv1 GET \//);
  });
});
