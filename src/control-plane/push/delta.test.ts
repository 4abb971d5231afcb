import assert from "node:assert/strict";
import { it } from "node:test";
import type { Cluster, ProxyConfig } from "../../model/proxy-config.ts";
import type { DeltaMessage } from "../../model/wire.ts";
import { deltaLine, diffConfigs } from "./delta.ts";

const cluster = (name: string, timeout = 10_000) => ({ name, connectTimeoutMs: timeout }) as unknown as Cluster;
function config(clusters: Cluster[], extra: Partial<ProxyConfig> = {}): ProxyConfig {
  const endpoints = Object.fromEntries(clusters.map((c) => [c.name, [{ address: "10.0.0.1", port: 80 }]]));
  return { version: "v1", node: { id: "n" } as ProxyConfig["node"], listeners: [], routes: [], clusters, endpoints, ...extra } as ProxyConfig;
}
const names = (d: ReturnType<typeof diffConfigs>) => Object.fromEntries([...d].map(([t, c]) => [t, { changed: c.changed.map(([n]) => n), added: c.added, removed: c.removed }]));

it("a new stream gets every resource of every type it has, the fields as secret and bootstrap resources", () => {
  const d = diffConfigs(null, config([cluster("a"), cluster("b")], { trustBundle: ["PEM"], signingRoot: "fp" }));
  assert.deepEqual(names(d), {
    cluster: { changed: ["a", "b"], added: 2, removed: [] },
    endpoints: { changed: ["a", "b"], added: 2, removed: [] },
    secret: { changed: ["trustBundle", "signingRoot"], added: 2, removed: [] },
    bootstrap: { changed: ["node"], added: 1, removed: [] },
  });
});

it("only what changed: equal content is unchanged whatever the object; added, changed and removed by name", () => {
  const before = config([cluster("a"), cluster("b"), cluster("c")]);
  const after = config([cluster("a"), cluster("b", 5000), cluster("d")]);
  assert.deepEqual(names(diffConfigs(before, after)), {
    cluster: { changed: ["b", "d"], added: 1, removed: ["c"] },
    endpoints: { changed: ["d"], added: 1, removed: ["c"] },
  });
  assert.equal(diffConfigs(before, config([cluster("a"), cluster("b"), cluster("c")])).size, 0, "a copy is no change");
  assert.equal(diffConfigs(before, { ...before, version: "v9" }).size, 0, "the version is no resource");
});

it("unsorted collections (not what translation emits) are diffed by name all the same", () => {
  const before = config([cluster("c"), cluster("a")]);
  const after = config([cluster("b"), cluster("c", 1)]);
  assert.deepEqual(names(diffConfigs(before, after)).cluster, { changed: ["b", "c"], added: 1, removed: ["a"] });
});

it("a field set or cleared is a secret or bootstrap resource added or removed", () => {
  const before = config([], { revocations: { serials: ["1"], identities: [] } });
  const after = config([], { telemetry: { metricsPort: 15090 } });
  assert.deepEqual(names(diffConfigs(before, after)), {
    secret: { changed: [], added: 0, removed: ["revocations"] },
    bootstrap: { changed: ["telemetry"], added: 1, removed: [] },
  });
});

it("the wire line is one JSON object: per type its version, resources with versions, removed names", () => {
  const before = config([cluster("a"), cluster("c")]);
  const after = config([cluster("a", 1), cluster("b")]);
  const line = deltaLine("v2", "n1", false, diffConfigs(before, after), new Map([["cluster", "v2"]]));
  assert.ok(line.endsWith("}\n") && !line.slice(0, -1).includes("\n"));
  const msg = JSON.parse(line) as DeltaMessage;
  assert.equal(msg.type, "delta");
  assert.equal(msg.nonce, "n1");
  assert.equal(msg.full, false);
  assert.deepEqual(Object.keys(msg.types), ["cluster", "endpoints"]);
  assert.equal(msg.types.cluster!.version, "v2");
  assert.deepEqual(msg.types.cluster!.resources.map((r) => [r.name, r.resource]), [["a", { name: "a", connectTimeoutMs: 1 }], ["b", { name: "b", connectTimeoutMs: 10_000 }]]);
  assert.deepEqual(msg.types.cluster!.removed, ["c"]);
  assert.deepEqual(msg.types.endpoints!.removed, ["c"]);
  const [a1, a2] = [msg.types.cluster!.resources[0]!.version, (JSON.parse(deltaLine("v1", "n0", true, diffConfigs(null, before), new Map())) as DeltaMessage).types.cluster!.resources[0]!.version];
  assert.match(a1, /^[\w-]{16}$/);
  assert.notEqual(a1, a2, "a changed resource has a new version");
});

it("a changed virtual host is sent alone; its route configuration only when the list of virtual hosts changes", () => {
  const vh = (name: string, timeoutMs = 0) => ({ name, domains: [name], routes: [{ timeoutMs }] });
  const routes = (...hosts: ReturnType<typeof vh>[]) => [{ name: "outbound", virtualHosts: hosts }] as unknown as ProxyConfig["routes"];
  const before = config([], { routes: routes(vh("a"), vh("b")) });
  assert.deepEqual(names(diffConfigs(before, config([], { routes: routes(vh("a"), vh("b", 5)) }))), { virtual_host: { changed: ["outbound/b"], added: 0, removed: [] } });
  assert.deepEqual(names(diffConfigs(before, config([], { routes: routes(vh("a")) }))), {
    route: { changed: ["outbound"], added: 0, removed: [] },
    virtual_host: { changed: [], added: 0, removed: ["outbound/b"] },
  });
});

it("two resources of one type and name cannot be sent as a delta: an error naming them", () => {
  assert.throws(() => diffConfigs(null, config([cluster("a"), cluster("a")])), /^Error: cluster: two resources named "a"$/);
});
