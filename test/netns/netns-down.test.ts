// After `kill -9` of `amime up --runtime netns`, its apps and sidecars stop by themselves (the
// parent-death guard) and `amime down` removes every namespace, link, route and /etc/netns file
// the run made, then the state file. Skipped when not root (CI runs as root).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { eventually, randomPortBase, ROOT, survivors, UpRun } from "../e2e/up-harness.ts";
import { netnsLeftovers, notRoot } from "./netns-harness.ts";

describe("amime down after kill -9 of amime up --runtime netns", { skip: notRoot(), timeout: 120_000 }, () => {
  let run: UpRun | undefined;
  after(() => run?.cleanup());

  it("leaves nothing: no process, namespace, link, route or file", async () => {
    run = new UpRun(["--runtime", "netns", "-f", join(ROOT, "test", "e2e", "fixtures", "grpc"), "--port-base", String(await randomPortBase())]);
    const state = await run.waitStarted(60_000);
    const net = state.network!;
    assert.equal(net.pods.length, 2);
    assert.equal((await netnsLeftovers(net.runId, net.subnet)).length > 0, true, "the run made its namespaces");
    process.kill(run.child.pid!, "SIGKILL");
    await run.exited;
    // The guards see amime up gone within a second, then stop their groups (SIGKILL after 5 s).
    assert.ok(await eventually(async () => survivors(run!.groups).length === 0, 15_000), survivors(run.groups).join("\n"));
    assert.ok(existsSync(join(run.cwd, ".amime", "up.json")), "the state file survives the crash");
    const down = run.amime(["down"]);
    assert.equal(down.status, 0, down.stdout + down.stderr);
    assert.match(down.stdout, new RegExp(`removed ${net.nodeNetns}, 2 pod namespace\\(s\\)`));
    assert.deepEqual(await netnsLeftovers(net.runId, net.subnet), []);
    assert.equal(existsSync(join(run.cwd, ".amime", "up.json")), false);
    // Nothing left to do: a second down says so.
    assert.equal(run.amime(["down"]).status, 1);
  });
});
