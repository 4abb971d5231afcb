// test/support/ports.ts: ports named before anything binds them never come out twice in a process.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { unusedPort } from "./ports.ts";

describe("test/support/ports.ts", () => {
  it("draws that nothing has bound yet never overlap, spans included", async () => {
    // 1,000 draws over ≈ 22,600 ports: independent draws would share a port in all but 3 × 10⁻¹⁰ of runs.
    const taken = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const span = i % 10 === 0 ? 3 : 1;
      const port = await unusedPort(span);
      for (let p = port; p < port + span; p++) {
        assert.ok(!taken.has(p), `port ${p} handed out twice`);
        taken.add(p);
      }
    }
  });

  it("outside the kernel's ephemeral range, where no outgoing connection takes a source port", async () => {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number) as [number, number];
    const port = await unusedPort(64);
    assert.ok(port + 63 < low || port > high, `${port}..${port + 63} vs ephemeral ${low}..${high}`);
  });
});
