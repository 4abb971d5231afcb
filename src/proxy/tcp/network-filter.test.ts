import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import type { Listener, ProxyConfig } from "../../model/proxy-config.ts";
import type { ProxyContext } from "../request/context.ts";
import { buildNetworkChains, networkChainFor } from "./filters/registry.ts";
import { NF_CONTINUE, NF_STOP, resumeConnection, runConnection, type ConnectionContext, type NetworkFilter } from "./network-filter.ts";
import { TcpListenerStats } from "./tcp-stats.ts";

function fakeSocket(): Socket & { destroyed: boolean } {
  const s = { destroyed: false, destroy: () => ((s.destroyed = true), s) };
  return s as unknown as Socket & { destroyed: boolean };
}

const listener = (extra: Partial<Listener> = {}): Listener => ({ name: "tcp", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [] }, ...extra });

describe("network filter chain", () => {
  it("runs filters in order; a stopped connection resumes at the next one", () => {
    const log: string[] = [];
    let held: ConnectionContext | null = null;
    const a: NetworkFilter = { name: "a", onConnection: (_c, cfg) => (log.push(`a:${String(cfg)}`), NF_CONTINUE) };
    const b: NetworkFilter = { name: "b", onConnection: (c) => ((held = c), log.push("b"), NF_STOP) };
    const last: NetworkFilter = { name: "last", onConnection: () => (log.push("last"), NF_STOP) };
    runConnection(fakeSocket(), listener(), {} as ProxyContext, new TcpListenerStats(), {}, [
      { filter: a, config: 1 },
      { filter: b, config: undefined },
      { filter: last, config: undefined },
    ]);
    assert.deepEqual(log, ["a:1", "b"]);
    resumeConnection(held!);
    assert.deepEqual(log, ["a:1", "b", "last"]);
  });

  it("a connection gone while a filter held it is reported closed once when the filter resumes it", () => {
    const s = fakeSocket();
    let closed = 0;
    let held: ConnectionContext | null = null;
    const hold: NetworkFilter = { name: "hold", onConnection: (c) => ((held = c), NF_STOP) };
    const last: NetworkFilter = { name: "last", onConnection: () => assert.fail("a closed connection reached the last filter") };
    runConnection(s, listener(), {} as ProxyContext, new TcpListenerStats(), { onClose: () => closed++ }, [
      { filter: hold, config: undefined },
      { filter: last, config: undefined },
    ]);
    s.destroy();
    resumeConnection(held!);
    assert.equal(closed, 1);
  });

  it("a throwing filter closes its connection only", () => {
    const s = fakeSocket();
    let closed = 0;
    const boom: NetworkFilter = {
      name: "boom",
      onConnection() {
        throw new Error("bug");
      },
    };
    runConnection(s, listener(), {} as ProxyContext, new TcpListenerStats(), { onClose: () => closed++ }, [{ filter: boom, config: undefined }]);
    assert.equal(s.destroyed, true);
    assert.equal(closed, 1);
  });

  it("the default list is tcp_proxy; an unknown name or a list without tcp_proxy last is rejected with its path", () => {
    assert.deepEqual(networkChainFor(listener()).map((s) => s.filter.name), ["tcp_proxy"]);
    const config = (l: Listener) => ({ listeners: [listener({ name: "http", protocol: "http" }), l], routes: [] }) as unknown as ProxyConfig;
    assert.throws(() => buildNetworkChains(config(listener({ networkFilters: [{ name: "nope" }, { name: "tcp_proxy" }] }))), {
      message: 'listeners[1].networkFilters[0].name: unknown network filter "nope" (known: ext_authz, rbac, tcp_proxy)',
    });
    assert.throws(() => buildNetworkChains(config(listener({ networkFilters: [] }))), { message: 'listeners[1].networkFilters: the network filter list must end with "tcp_proxy"' });
    const ok = listener({ networkFilters: [{ name: "tcp_proxy" }] });
    buildNetworkChains(config(ok));
    assert.deepEqual(networkChainFor(ok).map((s) => s.filter.name), ["tcp_proxy"]);
  });
});
