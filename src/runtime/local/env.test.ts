import assert from "node:assert/strict";
import { test } from "node:test";
import type { Resource } from "../../model/resource.ts";
import { appEnv } from "./env.ts";
import { planInstances, registryInstance, type InstancePorts } from "./plan.ts";

const workload = (env: { name: string; value: string }[] = [], annotations: Record<string, string> = {}): Resource => ({
  apiVersion: "amime.dev/v1alpha1",
  kind: "Workload",
  group: "amime.dev",
  metadata: { name: "web", namespace: "default", labels: { app: "web" }, annotations },
  body: { spec: { command: ["node", "web.ts"], ports: [{ name: "http-web", containerPort: 9080 }], env } },
  source: { file: "/tmp/mesh.yaml", line: 1, column: 1 },
}) as unknown as Resource;

const ports: InstancePorts = { app: new Map([[9080, 20001]]), inbound: new Map([[9080, 20002]]), outbound: 20003, admin: 20004, tcpPool: [] };

test("an app gets HOST (loopback: only its sidecar reaches it) beside PORT, its sidecar as HTTP_PROXY, and the service variables", () => {
  const [plan] = planInstances([workload()]);
  const env = appEnv(plan!, ports, "/repo", { REDIS_SERVICE_HOST: "127.0.0.1", REDIS_SERVICE_PORT: "31001" }, { HOST: "0.0.0.0", PATH: "/bin" });
  assert.equal(env.HOST, "127.0.0.1");
  assert.equal(env.PORT, "20001");
  assert.equal(env.AMIME_PORT_HTTP_WEB, "20001");
  assert.equal(env.HTTP_PROXY, "http://127.0.0.1:20003");
  assert.equal(env.REDIS_SERVICE_PORT, "31001");
});

test("the Workload's env is applied last", () => {
  const [plan] = planInstances([workload([{ name: "HOST", value: "::1" }])]);
  assert.equal(appEnv(plan!, ports, "/repo", {}, {}).HOST, "::1");
});

test('sidecar.istio.io/inject: "false": no HTTP_PROXY (its calls go out directly), no service variables through a sidecar; peers dial the app\'s own port', () => {
  const [plan] = planInstances([workload([], { "sidecar.istio.io/inject": "false" })]);
  assert.equal(plan!.sidecar, false);
  const env = appEnv(plan!, ports, "/repo", {}, { HTTP_PROXY: "http://elsewhere:1", PATH: "/bin" });
  assert.equal(env.HTTP_PROXY, undefined);
  assert.equal(env.http_proxy, undefined);
  assert.equal(env.NODE_USE_ENV_PROXY, undefined);
  assert.equal(env.PORT, "20001");
  const inst = registryInstance(plan!, ports, true);
  assert.deepEqual(inst.ports, { "9080": 20001, "http-web": 20001 });
  assert.equal(inst.appPorts, undefined);
  assert.equal(inst.sidecar, false);
  assert.equal(registryInstance(planInstances([workload()])[0]!, ports, true).ports?.["9080"], 20002);
});
