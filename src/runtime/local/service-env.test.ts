import assert from "node:assert/strict";
import { test } from "node:test";
import { envName, serviceEnv, serviceLinks } from "./service-env.ts";

const list = {
  items: [
    { apiVersion: "v1", kind: "Service", namespace: "default", name: "redis-cache", body: { spec: { ports: [{ name: "tcp-redis", port: 6379 }] } }, source: { file: "", line: 0 }, origin: "file" },
    { apiVersion: "v1", kind: "Service", namespace: "default", name: "reviews", body: { spec: { ports: [{ name: "http", port: 9080 }, { port: 9090 }] } }, source: { file: "", line: 0 }, origin: "file" },
    { apiVersion: "v1", kind: "Service", namespace: "default", name: "mixed", body: { spec: { ports: [{ name: "http", port: 80 }, { name: "tcp-db", port: 5432 }] } }, source: { file: "", line: 0 }, origin: "file" },
    { apiVersion: "v1", kind: "Service", namespace: "other", name: "elsewhere", body: { spec: { ports: [{ name: "tcp", port: 1 }] } }, source: { file: "", line: 0 }, origin: "file" },
  ],
};

test("Kubernetes names: upper case, dashes to underscores", () => {
  assert.equal(envName("redis-cache"), "REDIS_CACHE");
  assert.equal(envName("tcp-redis"), "TCP_REDIS");
});

test("TCP ports point at the sidecar's local listener, HTTP services at their name; only the namespace's Services", () => {
  const env = serviceEnv(serviceLinks(list), "default", {
    "redis-cache.default.svc.cluster.local:6379": 31001,
    "mixed.default.svc.cluster.local:5432": 31002,
    "www.google.com:443": 31003,
  });
  assert.deepEqual(env, {
    MIXED_SERVICE_HOST: "127.0.0.1",
    MIXED_SERVICE_PORT: "31002",
    MIXED_SERVICE_PORT_TCP_DB: "31002",
    REDIS_CACHE_SERVICE_HOST: "127.0.0.1",
    REDIS_CACHE_SERVICE_PORT: "31001",
    REDIS_CACHE_SERVICE_PORT_TCP_REDIS: "31001",
    REVIEWS_SERVICE_HOST: "reviews",
    REVIEWS_SERVICE_PORT: "9080",
    REVIEWS_SERVICE_PORT_HTTP: "9080",
  });
});
