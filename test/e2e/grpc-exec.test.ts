// gRPC in the local mesh: @grpc/grpc-js honours http_proxy by tunnelling with CONNECT and speaking
// h2c inside the tunnel. Run through `amime exec` (the proxy variables an app gets), a unary call
// and a gRPC error status go client → its sidecar (CONNECT, HTTP/2 side) → the greeter's sidecar
// → the greeter, and back.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { randomPortBase, ROOT, UpRun } from "./up-harness.ts";

const FIXTURE = join(ROOT, "test", "e2e", "fixtures", "grpc");

describe("gRPC through amime exec", { timeout: 90_000 }, () => {
  let run: UpRun;

  before(async () => {
    run = new UpRun(["-f", FIXTURE, "--port-base", String(await randomPortBase())]);
    await run.waitStarted();
  });
  after(() => run.cleanup());

  it("a @grpc/grpc-js client reaches greeter:50051 by name through its sidecar; statuses come back", () => {
    const r = run.amime(["exec", "client", "--", "node", join(FIXTURE, "greet.ts"), "greeter:50051", "mesh", "missing"]);
    assert.equal(r.status, 0, r.stderr);
    const [ok, missing] = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(ok, { message: "hello mesh from greeter-0" });
    assert.deepEqual(missing, { code: 5, details: "no such name" });
  });

  it("the call is in the client sidecar's metrics as a gRPC request to greeter", async () => {
    const state = run.state();
    const client = state.instances.find((i) => i.name === "client-0")!;
    const stats = await (await fetch(`http://127.0.0.1:${client.adminPort}/stats/prometheus`)).text();
    assert.match(stats, /istio_requests_total\{[^}]*destination_service="greeter\.default\.svc\.cluster\.local"[^}]*request_protocol="grpc"[^}]*\} [1-9]/);
  });
});
