// The two commands the sidecar injector puts into pods, run as real processes: `amime capture`
// (istio-init) installs its rules in a real network namespace (root; skipped with a message
// otherwise, CI runs as root), `amime wait` (the postStart hook of holdApplicationUntilProxyStarts)
// returns once a readiness endpoint answers 200, and fails when it never does.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { it } from "node:test";
import { BIN, NODE, runTool } from "./control-plane-process.ts";

const root = typeof process.getuid === "function" && process.getuid() === 0;

it("amime capture installs the pod's rules with iptables-restore in the namespace it runs in", { skip: root ? false : "needs root (CI runs as root)" }, async () => {
  const ns = `amime-capt-${randomBytes(3).toString("hex")}`;
  assert.equal((await runTool("ip", ["netns", "add", ns])).code, 0);
  try {
    const r = await runTool("ip", ["netns", "exec", ns, NODE, BIN, "capture", "--pod-ip", "10.9.1.2", "--node-ip", "10.9.0.1", "--inbound-ports", "9080,9090", "--exclude-outbound-ports", "3306", "--exclude-outbound-ip-ranges", "169.254.169.254/32", "--include-outbound-ip-ranges", "10.96.0.0/12"]);
    assert.equal(r.code, 0, r.stderr);
    const nat = (await runTool("ip", ["netns", "exec", ns, "iptables-save", "-t", "nat"])).stdout;
    for (const rule of [
      "-A AMIME_INBOUND -p tcp -m tcp --dport 9080 -j REDIRECT --to-ports 15006",
      "-A AMIME_INBOUND -p tcp -m tcp --dport 9090 -j REDIRECT --to-ports 15101",
      "-A AMIME_OUTPUT -m owner --uid-owner 1337 -j RETURN",
      "-A AMIME_OUTPUT -d 169.254.169.254/32 -j RETURN",
      "-A AMIME_OUTPUT -p tcp -m tcp --dport 3306 -j RETURN",
      "-A AMIME_OUTPUT -d 10.96.0.0/12 -p tcp -j REDIRECT --to-ports 15001",
    ]) assert.ok(nat.includes(rule), `missing ${rule} in:\n${nat}`);
    assert.ok(!nat.includes("-A AMIME_OUTPUT -p tcp -j REDIRECT --to-ports 15001"), "only the included range is captured");
    const host = (await runTool("iptables-save", ["-t", "nat"])).stdout;
    assert.ok(nat.includes("-A AMIME_OUTPUT -d 10.9.1.2/32 -j RETURN"));
    assert.ok(!host.includes("10.9.1.2/32"), "the host's own tables are untouched");
    const bad = await runTool(NODE, [BIN, "capture", "--pod-ip", "10.9.1.2", "--node-ip", "10.9.0.1", "--exclude-outbound-ports", "99999"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--exclude-outbound-ports: "99999" is not a port/);
  } finally {
    await runTool("ip", ["netns", "del", ns]);
  }
});

it("amime wait returns once the endpoint answers 200, and exits 1 naming the last answer when it never does", async () => {
  let calls = 0;
  const server = createServer((_req, res) => {
    calls++;
    res.writeHead(calls < 3 ? 503 : 200).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ready`;
  try {
    const ok = await runTool(NODE, [BIN, "wait", "--url", url, "--period", "10"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(calls >= 3, "it returned only after the endpoint answered 200");
    calls = -1_000_000;
    const never = await runTool(NODE, [BIN, "wait", "--url", url, "--period", "10", "--timeout", "1"]);
    assert.equal(never.code, 1);
    assert.match(never.stderr, /not ready after 1 s \(last: HTTP 503\)/);
  } finally {
    server.close();
  }
});
