import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kubeServiceEnv, podBaseEnv } from "./netns-env.ts";

describe("a pod's environment", () => {
  it("carries no proxy variable of the environment amime up runs in", () => {
    const env = podBaseEnv({ HTTP_PROXY: "http://x:1", https_proxy: "http://x:1", NO_PROXY: "", NODE_USE_ENV_PROXY: "1", AMIME_PROXY_TOKEN: "secret", HOME: "/root", PATH: "/usr/bin" });
    assert.deepEqual(Object.keys(env).sort(), ["HOME", "PATH"]);
    assert.match(env.PATH ?? "", /node_modules\/\.bin:\/usr\/bin$/);
  });

  it("sets Kubernetes' service variables as kubelet names them", () => {
    const env = kubeServiceEnv([{ name: "my-db", host: "10.200.128.4", ports: [{ name: "tcp-pg", port: 5432 }, { name: "", port: 5433 }] }]);
    assert.deepEqual(env, { MY_DB_SERVICE_HOST: "10.200.128.4", MY_DB_SERVICE_PORT: "5432", MY_DB_SERVICE_PORT_TCP_PG: "5432" });
  });
});
