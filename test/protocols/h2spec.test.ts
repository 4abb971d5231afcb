// HTTP/2 conformance of the sidecar's downstream side (Amime's own framing, src/proxy/http2/codec/):
// h2spec (github.com/summerwind/h2spec, built by test/protocols/h2spec/build.sh into ~/.cache/amime,
// as .ci/run does) runs its RFC 7540/9113 and RFC 7541 cases against an h2c listener that forwards
// to an HTTP/1.1 upstream; every case must pass (h2spec skips one it cannot run). All but one: an
// invalid connection preface on a listener that also speaks HTTP/1.1 is an HTTP/1.1 request to the
// listener's detection (docs/protocols.md) and gets HTTP/1.1's 400, where h2spec wants a bare close.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, run } from "./harness.ts";
import { h2Config } from "./h2-harness.ts";

describe("h2spec against the h2c listener", () => {
  let upstream: Server;
  let sidecar: Sidecar;
  let h2spec = "";

  before(async () => {
    const built = await run(join(import.meta.dirname, "h2spec", "build.sh"), [], "", 600_000);
    assert.equal(built.code, 0, built.stderr);
    h2spec = built.stdout.trim();
    upstream = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("ok\n"));
    });
    const upstreamPort = await listen(upstream);
    sidecar = await Sidecar.start(h2Config({}, [{ name: "all", cluster: "up" }], [{ name: "up", ports: [upstreamPort] }]));
  });

  after(async () => {
    await sidecar.close(100);
    await closeServer(upstream);
  });

  it("passes every h2spec case", async () => {
    const sections = ["generic", "hpack", "http2/3.5/1", "http2/4", "http2/5", "http2/6", "http2/7", "http2/8"];
    const r = await run(h2spec, ["-h", "127.0.0.1", "-p", String(sidecar.ports().outbound), "-o", "2", ...sections], "", 120_000);
    const summary = /(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/.exec(r.stdout);
    assert.ok(summary, r.stdout.slice(-3000));
    assert.equal(summary[4], "0", r.stdout.slice(r.stdout.indexOf("Failures:")));
    assert.ok(Number(summary[2]) >= 140, summary[0]);
  });
});
