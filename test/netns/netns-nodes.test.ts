// `amime up --runtime netns --nodes 2`: pods spread over two node namespaces ("machines"), each
// with its own bridge and pod subnet, joined by routes over a wire namespace to each other and to
// the host, where the control plane runs. Calls cross from one machine to the other through both
// sidecars. Then `kill -9` of amime up: its apps and sidecars stop by themselves (the parent-death
// guard), and `amime down` removes every namespace, link, route and file the run made.
// Skipped when not root (CI runs as root).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, randomPortBase, ROOT, survivors, UpRun } from "../e2e/up-harness.ts";
import { netnsLeftovers, notRoot } from "./netns-harness.ts";

const GRPC = join(ROOT, "test", "e2e", "fixtures", "grpc");

describe("amime up --runtime netns --nodes 2, then kill -9 and amime down", { skip: notRoot(), timeout: 150_000 }, () => {
  let run: UpRun;
  let state: UpState;

  before(async () => {
    run = new UpRun(["--runtime", "netns", "--nodes", "2", "-f", GRPC, "-f", join(ROOT, "samples", "redis"), "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted(60_000);
  });
  after(() => run.cleanup());

  it("pods sit on two machines with their own subnets; gRPC and Redis calls cross between them", () => {
    const by = (w: string): NonNullable<UpState["instances"][number]> => state.instances.find((i) => i.workload === w)!;
    const [greeter, client, redis] = [by("greeter"), by("client"), by("redis")];
    assert.equal(state.network!.nodes.length, 2);
    assert.notEqual(client.node, greeter.node);
    assert.notEqual(client.node, redis.node);
    const subnet = (ip: string | undefined): string => (ip ?? "").split(".").slice(0, 3).join(".");
    assert.notEqual(subnet(client.ip), subnet(greeter.ip));
    // The client's machine routes the other machine's pod subnet through that machine.
    const routes = spawnSync("ip", ["-n", client.node!, "route", "show"], { encoding: "utf8" }).stdout;
    assert.match(routes, new RegExp(`^${subnet(greeter.ip).replace(/\./g, "\\.")}\\.0/24 via 10\\.\\d+\\.0\\.\\d+ dev uplink`, "m"));
    const g = run.amime(["exec", "client", "--", "node", join(GRPC, "greet.ts"), "greeter:50051", "across"]);
    assert.equal(g.status, 0, g.stderr);
    assert.deepEqual(JSON.parse(g.stdout.trim()), { message: "hello across from greeter-0" });
    const r = run.amime(["exec", "client", "--", "redis-cli", "-h", "redis", "ping"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "PONG");
  });

  it("after kill -9, amime down leaves nothing: no process, namespace, link, route or file", async () => {
    const net = state.network!;
    assert.ok((await netnsLeftovers(net.runId, net.subnet)).length > 0, "the run made its namespaces");
    process.kill(run.child.pid!, "SIGKILL");
    await run.exited;
    // The guards see amime up gone within a second, then stop their groups (SIGKILL after 5 s).
    assert.ok(await eventually(async () => survivors(run.groups).length === 0, 15_000), survivors(run.groups).join("\n"));
    assert.ok(existsSync(join(run.cwd, ".amime", "up.json")), "the state file survives the crash");
    const down = run.amime(["down"]);
    assert.equal(down.status, 0, down.stdout + down.stderr);
    assert.match(down.stdout, new RegExp(`removed 3 pod namespace\\(s\\), 2 node namespace\\(s\\) \\(${net.nodes.join(", ")}\\), ${net.wireNetns}`));
    assert.deepEqual(await netnsLeftovers(net.runId, net.subnet), []);
    assert.equal(existsSync(join(run.cwd, ".amime", "up.json")), false);
    // Nothing left to do: a second down says so.
    assert.equal(run.amime(["down"]).status, 1);
  });
});
