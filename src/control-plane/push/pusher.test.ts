import assert from "node:assert/strict";
import { it } from "node:test";
import type { Clock } from "../../core/clock.ts";
import { seededRandom } from "../../core/random.ts";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import type { PushMessage } from "../../model/wire.ts";
import { FakeClock } from "../../testing/fake-clock.ts";
import { syncState } from "./proxy-state.ts";
import { Pusher, type PushSink } from "./pusher.ts";

class Sink implements PushSink {
  lines: PushMessage[] = [];
  closed = false;
  write(line: string): void {
    assert.ok(line.endsWith("\n"), "NDJSON: one message per line");
    this.lines.push(JSON.parse(line) as PushMessage);
  }
  close(): void {
    this.closed = true;
  }
  configs(): Extract<PushMessage, { type: "config" }>[] {
    return this.lines.filter((l) => l.type === "config");
  }
}

function cfg(version: string, marker: string): ProxyConfig {
  return { version, node: { id: "n", kind: "sidecar", workload: "w", namespace: "default", labels: { marker }, serviceAccount: "sa", trustDomain: "cluster.local", ip: "127.0.0.1" }, listeners: [], routes: [], clusters: [], endpoints: {} };
}

function setup() {
  const clock = new FakeClock();
  const world = { version: "v1", configs: new Map<string, string>() };
  const pusher = new Pusher({
    clock,
    random: seededRandom(1),
    debounceMs: 50,
    configFor: (node) => (world.configs.has(node) ? cfg(world.version, world.configs.get(node)!) : null),
  });
  return { clock, world, pusher };
}

it("a proxy that connects before it is registered waits with its stream open, then gets its config on the next push", () => {
  const { clock, world, pusher } = setup();
  const a = new Sink();
  pusher.connect("a", a);
  assert.deepEqual(a.lines, []);
  assert.equal(syncState(pusher.state("a")!), "NOT SENT");
  world.configs.set("a", "x");
  world.version = "v2";
  pusher.schedule();
  clock.advance(49);
  assert.deepEqual(a.lines, [], "debounced");
  clock.advance(1);
  assert.equal(a.configs().length, 1);
  assert.equal(a.configs()[0]!.version, "v2");
  assert.equal(a.closed, false);
});

it("a burst of changes is one push; only proxies whose config changed are pushed", () => {
  const { clock, world, pusher } = setup();
  world.configs.set("a", "x").set("b", "y");
  const a = new Sink();
  const b = new Sink();
  pusher.connect("a", a);
  pusher.connect("b", b);
  assert.equal(a.configs().length, 1, "connect sends the current config at once");
  assert.equal(b.configs().length, 1);
  for (let i = 2; i <= 5; i++) {
    world.version = `v${i}`;
    world.configs.set("a", `x${i}`);
    pusher.schedule();
    clock.advance(10);
  }
  clock.advance(50);
  assert.equal(a.configs().length, 2);
  assert.equal(a.configs()[1]!.version, "v5");
  assert.equal(b.configs().length, 1, "b's config did not change: nothing sent, whatever the version");
  assert.equal(pusher.state("b")!.sentVersion, "v1");
  assert.equal(pusher.pushes, 3);
});

it("ACK → SYNCED, NACK → NACK until a later push is ACKed; stale nonces do not count", () => {
  const { clock, world, pusher } = setup();
  world.configs.set("a", "x");
  const a = new Sink();
  pusher.connect("a", a);
  const n1 = a.configs()[0]!.nonce;
  const acks: string[] = [];
  pusher.onAck((s, m) => acks.push(`${s.node} ${m.version} ${m.accepted}`));
  assert.equal(pusher.ack({ node: "a", version: "v1", nonce: n1, accepted: true }), true);
  assert.equal(syncState(pusher.state("a")!), "SYNCED");
  world.version = "v2";
  world.configs.set("a", "y");
  pusher.schedule();
  clock.advance(50);
  const n2 = a.configs()[1]!.nonce;
  assert.notEqual(n2, n1);
  assert.equal(syncState(pusher.state("a")!), "STALE");
  assert.equal(pusher.ack({ node: "a", version: "v1", nonce: n1, accepted: true }), false);
  assert.equal(pusher.ack({ node: "a", version: "v2", nonce: n2, accepted: false, error: "bad" }), true);
  assert.equal(syncState(pusher.state("a")!), "NACK");
  assert.equal(pusher.state("a")!.ackedVersion, "v1");
  assert.equal(pusher.ack({ node: "zz", version: "v2", nonce: n2, accepted: true }), false);
  world.version = "v3";
  world.configs.set("a", "z");
  pusher.schedule();
  clock.advance(50);
  assert.equal(syncState(pusher.state("a")!), "NACK");
  pusher.ack({ node: "a", version: "v3", nonce: a.configs()[2]!.nonce, accepted: true });
  assert.equal(syncState(pusher.state("a")!), "SYNCED");
  assert.deepEqual(acks, ["a v1 true", "a v2 false", "a v3 true"]);
});

it("reconnect resends the current config (resync) and replaces the old stream; pings every 15 s", () => {
  const { clock, world, pusher } = setup();
  world.configs.set("a", "x");
  const s1 = new Sink();
  pusher.connect("a", s1);
  const s2 = new Sink();
  pusher.connect("a", s2);
  assert.equal(s1.closed, true);
  assert.equal(s2.configs().length, 1, "same config, sent again on a new stream");
  pusher.disconnect("a", s1);
  assert.equal(pusher.state("a")!.connected, true, "closing the replaced stream does not disconnect the node");
  clock.advance(15_000);
  assert.deepEqual(s2.lines.at(-1), { type: "ping" });
  pusher.disconnect("a", s2);
  assert.equal(pusher.state("a")!.connected, false);
  assert.equal(pusher.connectedCount, 0);
  pusher.close();
  assert.equal(clock.pending(), 0);
});

it("beforeSend rewrites what goes on the wire, not what is compared", () => {
  const clock = new FakeClock();
  const pusher = new Pusher({ clock, random: seededRandom(1), debounceMs: 50, configFor: () => cfg("v1", "x"), beforeSend: (_n, c) => ({ ...c, clusters: [] , listeners: [{ name: "broken" }] as unknown as ProxyConfig["listeners"] }) });
  const a = new Sink();
  pusher.connect("a", a);
  assert.deepEqual(a.configs()[0]!.config.listeners, [{ name: "broken" }]);
  pusher.schedule();
  clock.advance(50);
  assert.equal(a.configs().length, 1);
  pusher.close();
});

it("a connect translates only the new node; a new snapshot translates every connected node once", () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const pusher = new Pusher({ clock, random: seededRandom(1), debounceMs: 50, configFor: (n) => (calls.push(n), cfg("v1", n)) });
  for (const n of ["a", "b", "c"]) pusher.connect(n, new Sink());
  assert.deepEqual(calls, ["a", "b", "c"]);
  calls.length = 0;
  pusher.schedule();
  pusher.schedule();
  clock.advance(50);
  assert.deepEqual(calls.sort(), ["a", "b", "c"]);
  pusher.close();
});

it("delta stream: full state once, then only the changed resources; per-type versions move on ACK, not on NACK; reconnect = full state", () => {
  const clock = new FakeClock();
  const world = { version: "v1", timeouts: new Map([["a", 1], ["b", 1], ["c", 1]]) };
  const configFor = (): ProxyConfig => {
    const clusters = [...world.timeouts].map(([name, t]) => ({ name, connectTimeoutMs: t })) as unknown as ProxyConfig["clusters"];
    return { ...cfg(world.version, "x"), clusters };
  };
  const pusher = new Pusher({ clock, random: seededRandom(1), debounceMs: 50, configFor });
  const s = new Sink();
  pusher.connect("p", s, { delta: true });
  const deltas = () => s.lines.filter((l) => l.type === "delta");
  const first = deltas()[0]!;
  assert.equal(first.full, true);
  assert.deepEqual(first.types.cluster!.resources.map((r) => r.name), ["a", "b", "c"]);
  assert.deepEqual(Object.keys(first.types).sort(), ["bootstrap", "cluster"]);
  assert.equal(pusher.ack({ node: "p", version: "v1", nonce: first.nonce, accepted: true }), true);
  assert.equal(pusher.state("p")!.types.get("cluster")!.ackedVersion, "v1");

  world.version = "v2";
  world.timeouts.set("b", 2).delete("c");
  pusher.schedule();
  clock.advance(50);
  const second = deltas()[1]!;
  assert.equal(second.full, false);
  assert.deepEqual(Object.keys(second.types), ["cluster"], "the node did not change: no bootstrap resource");
  assert.deepEqual(second.types.cluster!.resources.map((r) => r.name), ["b"]);
  assert.deepEqual(second.types.cluster!.removed, ["c"]);
  pusher.ack({ node: "p", version: "v2", nonce: second.nonce, accepted: false, error: "clusters[1]: bad" });
  const st = pusher.state("p")!;
  assert.equal(syncState(st), "NACK");
  assert.equal(st.ackedVersion, "v1");
  assert.deepEqual({ ...st.types.get("cluster")! }, { sentVersion: "v2", sentNonce: second.nonce, ackedVersion: "v1", resources: 2 });
  assert.equal(st.types.get("bootstrap")!.ackedVersion, "v1");

  world.version = "v3";
  pusher.schedule();
  clock.advance(50);
  assert.equal(deltas().length, 2, "a new version with the same content sends nothing (the NACKed change is not resent)");
  world.timeouts.set("d", 4);
  pusher.schedule();
  clock.advance(50);
  const third = deltas()[2]!;
  assert.deepEqual(third.types.cluster!.resources.map((r) => r.name), ["d"], "diffed against what was sent, NACKed or not");
  pusher.ack({ node: "p", version: "v3", nonce: third.nonce, accepted: true });
  assert.equal(syncState(st), "SYNCED");
  assert.equal(st.types.get("cluster")!.ackedVersion, "v3");
  assert.equal(st.types.get("bootstrap")!.ackedVersion, "v1", "a type ACKed at the version it last changed at");

  const again = new Sink();
  pusher.connect("p", again, { delta: true });
  const resync = again.lines[0]!;
  assert.equal(resync.type === "delta" && resync.full, true);
  assert.equal(resync.type === "delta" && resync.types.cluster!.resources.length, 3);
  assert.deepEqual(pusher.counters, { configs: 0, fullStates: 2, deltas: 2, resources: { cluster: 3 + 1 + 1 + 3, bootstrap: 2 }, removed: { cluster: 1 }, rejects: 1 });
  pusher.close();
});

it("delta stream: the first message of a stream is the full state even when the proxy's instance is registered later", () => {
  const { clock, world, pusher } = setup();
  world.configs.set("a", "x");
  pusher.connect("a", new Sink(), { delta: true });
  world.configs.delete("a");
  const s = new Sink();
  pusher.connect("a", s, { delta: true });
  assert.equal(s.lines.length, 0, "not registered: waiting");
  world.configs.set("a", "x");
  pusher.schedule();
  clock.advance(50);
  const first = s.lines[0]!;
  assert.equal(s.lines.length, 1);
  assert.equal(first.type === "delta" && first.full, true);
  pusher.close();
});

it("a proxy expected to connect is translated ahead, once, after waiting pushes, and sent nothing until it connects", () => {
  const clock = new FakeClock();
  const world = new Map<string, string>([["a", "x"], ["b", "y"]]);
  const asked: string[] = [];
  const pusher = new Pusher({
    clock,
    random: seededRandom(1),
    debounceMs: 50,
    configFor: (node) => {
      asked.push(node);
      return world.has(node) ? cfg("v1", world.get(node)!) : null;
    },
  });
  const b = new Sink();
  pusher.connect("b", b, { delta: true });
  assert.deepEqual(asked, ["b"]);
  pusher.expect("a");
  pusher.expect("a");
  pusher.expect("b"); // connected: nothing to prepare
  pusher.expect("unregistered");
  assert.deepEqual(asked, ["b"], "in the background, not in the caller's turn");
  clock.advance(0);
  assert.deepEqual(asked, ["b", "a", "unregistered"], "each once; a connected proxy is not prepared");
  clock.advance(60_000);
  assert.deepEqual(asked.filter((n) => n === "a"), ["a"], "not again without another expect()");
  assert.equal(pusher.pushes, 1, "nothing sent to a proxy that has not connected");
  const a = new Sink();
  pusher.connect("a", a, { delta: true });
  assert.equal(a.lines.length, 1);
  assert.equal(a.lines[0]!.type === "delta" && a.lines[0]!.full, true, "its full state, on connect as before");
  pusher.close();
});

it("a push is sliced on the Clock: past 20 ms of translation the loop yields to the event loop, then goes on with the newest snapshot", async () => {
  const fake = new FakeClock();
  // Translation time as the Clock sees it: 15 ms per proxy. Real time plays no part, so a loaded
  // machine cannot make a synchronous test's push yield (with performance.now() it could: the
  // delta stream test above failed when its first push took over 20 ms).
  let spent = 0;
  const clock: Clock = { now: () => fake.now() + spent, wallNow: () => fake.wallNow(), setTimeout: (fn, ms) => fake.setTimeout(fn, ms) };
  const world = { version: "v1", marker: "", registered: false };
  const pusher = new Pusher({
    clock,
    random: seededRandom(1),
    debounceMs: 50,
    configFor: () => {
      if (!world.registered) return null;
      spent += 15;
      return cfg(world.version, world.marker);
    },
  });
  const sinks = ["a", "b", "c"].map((n) => {
    const s = new Sink();
    pusher.connect(n, s);
    return s;
  });
  world.registered = true;
  pusher.schedule();
  fake.advance(50);
  assert.deepEqual(sinks.map((s) => s.configs().length), [1, 1, 0], "30 ms spent after b: the loop yields before c");
  Object.assign(world, { version: "v2", marker: "changed" });
  pusher.schedule();
  fake.advance(50);
  assert.deepEqual(sinks.map((s) => s.configs().length), [1, 1, 0], "a push requested meanwhile waits for the running loop");
  for (let i = 0; i < 10 && pusher.counters.configs < 5; i++) await new Promise<void>((r) => setImmediate(r));
  assert.deepEqual(sinks.map((s) => s.configs().map((m) => m.version)), [["v1", "v2"], ["v1", "v2"], ["v2"]]);
  pusher.close();
});
