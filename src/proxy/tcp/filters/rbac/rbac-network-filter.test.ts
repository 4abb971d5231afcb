// The TCP decision: the shared matcher in its TCP mode over a connection's view (Istio's
// "Authorization for TCP traffic": HTTP-only fields make an ALLOW rule never match and are
// ignored in a DENY rule), and the filter closing a denied connection with its counters.
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import type { AuthzRule, Listener, RbacPolicy } from "../../../../model/proxy-config.ts";
import { compileRbac, decide } from "../../../http/filters/rbac/decide.ts";
import { FilterStats } from "../../../request/filter-stats.ts";
import type { ProxyContext } from "../../../request/context.ts";
import { NF_CONTINUE, NF_STOP, type ConnectionContext } from "../../network-filter.ts";
import { TcpListenerStats } from "../../tcp-stats.ts";
import { rbacNetworkFilter, tcpAttributes } from "./rbac-network-filter.ts";

const listener: Listener = { name: "inbound|9000", direction: "inbound", address: "10.0.0.5", port: 9000, protocol: "tcp", tcpRoute: { clusters: [] } };

function socket(extra: Record<string, unknown> = {}): Socket & { destroyed: boolean } {
  const s = { destroyed: false, remoteAddress: "::ffff:10.1.2.3", localAddress: "10.0.0.5", localPort: 9000, destroy: () => ((s.destroyed = true), s), ...extra };
  return s as unknown as Socket & { destroyed: boolean };
}

const conn = (s = socket(), peer = "spiffe://cluster.local/ns/foo/sa/sleep") => tcpAttributes({ socket: s, listener, peerPrincipal: peer });
const policy = (action: RbacPolicy["action"], rules: AuthzRule[], name = action.toLowerCase()): RbacPolicy => ({ name, namespace: "foo", action, dryRun: false, rules });
const allowed = (policies: RbacPolicy[], a = conn()): boolean => decide(compileRbac({ policies, useRemoteAddress: false, trustedHops: 0 }, true), a).allowed;
const op = (operation: object): AuthzRule => ({ to: [{ operation }] });
const src = (source: object): AuthzRule => ({ from: [{ source }] });
const when = (key: string, values: string[]): AuthzRule => ({ when: [{ key, values }] });

describe("rbac on TCP: the connection's view", () => {
  it("has the peer's address, the dialed address and port, the mTLS identity and SNI; nothing of HTTP", () => {
    const a = tcpAttributes({ socket: socket({ servername: "outbound_.9000_._.tcp-echo.foo.svc.cluster.local" }), listener, peerPrincipal: "spiffe://cluster.local/ns/foo/sa/sleep" });
    assert.deepEqual({ ...a, header: a.header("host") }, {
      method: "", path: "", authority: "", header: undefined, sourceIp: "::ffff:10.1.2.3", remoteIp: "::ffff:10.1.2.3",
      destinationIp: "10.0.0.5", destinationPort: 9000, principal: "cluster.local/ns/foo/sa/sleep", sni: "outbound_.9000_._.tcp-echo.foo.svc.cluster.local", jwts: null,
    });
  });
});

describe("rbac on TCP: each field in an ALLOW and a DENY policy (table)", () => {
  // [field, rule, ALLOW policy lets the connection in, DENY policy lets it in]
  const rows: [string, AuthzRule, boolean, boolean][] = [
    ["ports match", op({ ports: ["9000"] }), true, false],
    ["ports other", op({ ports: ["9001"] }), false, true],
    ["notPorts", op({ notPorts: ["9000"] }), false, true],
    ["ipBlocks (v4-mapped peer)", src({ ipBlocks: ["10.1.0.0/16"] }), true, false],
    ["notIpBlocks", src({ notIpBlocks: ["10.1.0.0/16"] }), false, true],
    ["remoteIpBlocks: the peer", src({ remoteIpBlocks: ["10.1.2.3"] }), true, false],
    ["principals", src({ principals: ["cluster.local/ns/foo/sa/sleep"] }), true, false],
    ["principals other", src({ principals: ["cluster.local/ns/bar/*"] }), false, true],
    ["namespaces", src({ namespaces: ["foo"] }), true, false],
    ["notNamespaces", src({ notNamespaces: ["foo"] }), false, true],
    ["when source.ip", when("source.ip", ["10.1.2.3/32"]), true, false],
    ["when source.principal", when("source.principal", ["*/sa/sleep"]), true, false],
    ["when source.namespace", when("source.namespace", ["bar"]), false, true],
    ["when destination.ip", when("destination.ip", ["10.0.0.5"]), true, false],
    ["when destination.port", when("destination.port", ["9000"]), true, false],
    ["when destination.port other", when("destination.port", ["9001"]), false, true],
    ["when connection.sni (none)", when("connection.sni", ["*"]), false, true],
    // HTTP-only fields: never match in ALLOW, ignored (always apply) in DENY.
    ["methods", op({ methods: ["GET"] }), false, false],
    ["notMethods", op({ notMethods: ["GET"] }), false, false],
    ["paths", op({ paths: ["/x"] }), false, false],
    ["notPaths", op({ notPaths: ["/x"] }), false, false],
    ["hosts", op({ hosts: ["*"] }), false, false],
    ["notHosts", op({ notHosts: ["a"] }), false, false],
    ["requestPrincipals", src({ requestPrincipals: ["*"] }), false, false],
    ["notRequestPrincipals", src({ notRequestPrincipals: ["*"] }), false, false],
    ["when request.headers[x]", when("request.headers[x]", ["a"]), false, false],
    ["when request.auth.principal", when("request.auth.principal", ["*"]), false, false],
    ["when request.auth.claims[groups]", when("request.auth.claims[groups]", ["g"]), false, false],
    // Istio's task: methods GET with ports 9000 denies 9000 only (the method is ignored in DENY).
    ["methods + ports match", op({ methods: ["GET"], ports: ["9000"] }), false, false],
    ["methods + ports other", op({ methods: ["GET"], ports: ["9001"] }), false, true],
  ];
  for (const [name, rule, allow, deny] of rows) {
    it(name, () => {
      assert.equal(allowed([policy("ALLOW", [rule])]), allow, "ALLOW");
      assert.equal(allowed([policy("DENY", [rule])]), deny, "DENY");
    });
  }

  it("an ALLOW rule with an HTTP-only field never matches, but another rule of the policy can", () => {
    assert.equal(allowed([policy("ALLOW", [op({ methods: ["GET"] }), op({ ports: ["9000"] })])]), true);
  });

  it("DENY is evaluated before ALLOW; no policy allows; an ALLOW policy matching nothing denies", () => {
    assert.equal(allowed([policy("ALLOW", [op({ ports: ["9000"] })]), policy("DENY", [src({ namespaces: ["foo"] })])]), false);
    assert.equal(allowed([]), true);
    assert.equal(allowed([policy("ALLOW", [])]), false);
    assert.equal(allowed([policy("ALLOW", [src({ principals: ["*"] })])], conn(socket(), "")), false, "plaintext has no principal");
  });

  it("the same policies on HTTP still evaluate methods (the HTTP mode is unchanged)", () => {
    const c = compileRbac({ policies: [policy("ALLOW", [op({ methods: ["GET"] })])], useRemoteAddress: false, trustedHops: 0 });
    assert.equal(decide(c, { ...conn(), method: "GET" }).allowed, true);
  });
});

describe("rbac network filter", () => {
  const cfg = { policies: [policy("ALLOW", [op({ ports: ["9000"] })]), policy("DENY", [src({ namespaces: ["bad"] })]), { ...policy("DENY", [{}], "dry"), dryRun: true }], useRemoteAddress: false, trustedHops: 0 };
  const run = (peer: string, proxy: ProxyContext) => {
    const s = socket();
    let closed = 0;
    const x = { socket: s, listener, proxy, stats: new TcpListenerStats(), opts: { onClose: () => closed++ }, peerPrincipal: peer, metadata: null, chain: [], index: 0 } as ConnectionContext;
    return { status: rbacNetworkFilter.onConnection(x, cfg), destroyed: s.destroyed, closed };
  };

  it("continues an allowed connection; closes a denied one (reported closed once); counts both per listener", () => {
    const proxy = { filterStats: new FilterStats() } as unknown as ProxyContext;
    assert.deepEqual(run("spiffe://cluster.local/ns/foo/sa/a", proxy), { status: NF_CONTINUE, destroyed: false, closed: 0 });
    assert.deepEqual(run("spiffe://cluster.local/ns/bad/sa/a", proxy), { status: NF_STOP, destroyed: true, closed: 1 });
    const stats = proxy.filterStats.group<Record<string, number>>("tcp.inbound|9000.rbac", () => ({}));
    assert.deepEqual({ ...stats }, { allowed: 1, denied: 1, shadow_allowed: 0, shadow_denied: 2, logged: 0 });
  });

  it("rejects a bad config at check time", () => {
    assert.throws(() => rbacNetworkFilter.check?.({ policies: [policy("ALLOW", [src({ ipBlocks: ["nope"] })])] }), /rbac: policy allow rule 0: bad IP or CIDR "nope"/);
    assert.throws(() => rbacNetworkFilter.check?.(null), /rbac: config must be an object/);
  });
});
