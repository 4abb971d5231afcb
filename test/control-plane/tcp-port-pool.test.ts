// The control plane hands out a sidecar's registered tcpPortPool to its outbound TCP listeners and
// keeps every assignment: a TCP service added later (even one sorting first) takes a new port, and
// the ports apps were told about stay put. The pool used up is logged, never a silent gap.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { outboundTcpPorts } from "../../src/control-plane/translate/tcp-listeners.ts";
import type { InstanceRegistration } from "../../src/model/wire.ts";

const service = (name: string, port: number): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${name}}
  ports: [{name: tcp, port: ${port}}]
`;

const registration = (pool: number[]): InstanceRegistration => ({
  instance: { name: "client-0", namespace: "default", labels: { app: "client" }, serviceAccount: "client", address: "127.0.0.1", ports: {}, ready: true },
  nodeId: "sidecar~client-0.default",
  node: { id: "sidecar~client-0.default", kind: "sidecar", workload: "client", namespace: "default", labels: { app: "client" }, serviceAccount: "client", trustDomain: "cluster.local", ip: "127.0.0.1" },
  outboundPort: 30000,
  tcpPortPool: pool,
});

test("pool ports are given out in order and stay with their service across config and readiness changes", async () => {
  const logs: string[] = [];
  const cp = await ControlPlane.start({ port: 0, watch: false, log: (l) => logs.push(l) });
  try {
    const ports = (): Record<string, number> => outboundTcpPorts(cp.configFor("sidecar~client-0.default")!.listeners);
    assert.equal((await cp.apply(service("redis", 6379))).applied, true);
    cp.register("default", "client-0", registration([31000, 31001]));
    assert.deepEqual(ports(), { "redis.default.svc.cluster.local:6379": 31000 });
    // A service that sorts before redis comes later: redis keeps 31000.
    assert.equal((await cp.apply(service("aaa", 5432))).applied, true);
    const reg = registration([31000, 31001]);
    reg.instance.ready = false;
    cp.register("default", "client-0", reg);
    assert.deepEqual(ports(), { "aaa.default.svc.cluster.local:5432": 31001, "redis.default.svc.cluster.local:6379": 31000 });
    assert.ok(logs.some((l) => /all 2 local ports set aside for outbound TCP services are in use/.test(l)), logs.join("\n"));
    // A third one finds the pool used up: no listener, rather than the service port.
    assert.equal((await cp.apply(service("zzz", 7000))).applied, true);
    assert.deepEqual(Object.keys(ports()).sort(), ["aaa.default.svc.cluster.local:5432", "redis.default.svc.cluster.local:6379"]);
    // Registered again after deregistration: a fresh assignment.
    cp.deregister("default", "client-0");
    cp.register("default", "client-0", registration([32000, 32001, 32002]));
    assert.deepEqual(Object.values(ports()).sort(), [32000, 32001, 32002]);
  } finally {
    await cp.close();
  }
});

test("a registration with a bad tcpPortPool is refused", async () => {
  const cp = await ControlPlane.start({ port: 0, watch: false });
  try {
    assert.throws(() => cp.register("default", "client-0", registration([0])), /tcpPortPool/);
  } finally {
    await cp.close();
  }
});
