import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { WorkloadCertificate, type ActiveCertificate } from "./workload-certificate.ts";

const fixed = (v: number) => ({ next: () => v, int: (n: number) => Math.floor(v * n) });

test("rotation is due at half the remaining lifetime, ±1 % jitter (Istio's grace ratio 0.5)", () => {
  // 24 h certificate received at t=0.
  const day = 24 * 3600_000;
  assert.equal(WorkloadCertificate.rotateAt(0, day, fixed(0.5)), day / 2);
  assert.equal(WorkloadCertificate.rotateAt(0, day, fixed(0)), day - 0.49 * day);
  assert.equal(WorkloadCertificate.rotateAt(0, day, fixed(1)), day - 0.51 * day);
  // Received late in its life (a NotBefore 2 min back does not count): half of what is left.
  assert.equal(WorkloadCertificate.rotateAt(1000, 7000, fixed(0.5)), 4000);
});

test("a failed bootstrap request is retried with the same key and CSR (a lost answer gets the same certificate); a renewal makes a new key", async () => {
  const csrs: string[] = [];
  const auth: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => (body += c));
    req.on("end", () => {
      csrs.push((JSON.parse(body) as { csr: string }).csr);
      auth.push(req.headers.authorization);
      if (csrs.length === 1) return void res.writeHead(503).end("busy");
      const notAfter = new Date(clock.wallNow() + 3600_000).toISOString();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ identity: "spiffe://cluster.local/ns/default/sa/a", serial: `0${csrs.length}`, certChain: ["leaf"], trustBundle: ["root"], notAfter }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const clock = new FakeClock();
  const issued: ActiveCertificate[] = [];
  const failed = new Promise<void>((r) => {
    const wc = new WorkloadCertificate({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: "bootstrap",
      clock,
      random: fixed(0.5),
      log: (line) => {
        if (line.startsWith("workload certificate request failed")) r();
      },
      onIssued: (c) => issued.push(c),
    });
    closers.push(() => wc.close());
    wc.start();
  });
  try {
    await failed;
    clock.advance(1000);
    await until(() => issued.length === 1);
    assert.equal(csrs[1], csrs[0], "the retry sends the first request's CSR");
    assert.equal(auth[1], "Bearer bootstrap");
    // Half the lifetime later: a renewal, with a new key (authenticated by the certificate, not the credential).
    clock.advance(1800_000);
    await until(() => csrs.length === 3);
    assert.notEqual(csrs[2], csrs[0]);
    assert.equal(auth[2], undefined);
  } finally {
    for (const c of closers) c();
    server.close();
  }
});

test("a client closed from its onIssued callback arms no rotation (nothing left to keep a process alive)", async () => {
  const server = createServer((req, res) => {
    req.resume().on("end", () => {
      const notAfter = new Date(clock.wallNow() + 3600_000).toISOString();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ identity: "spiffe://cluster.local/ns/default/sa/a", serial: "01", certChain: ["leaf"], trustBundle: ["root"], notAfter }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const clock = new FakeClock();
  try {
    const issued = await new Promise<ActiveCertificate>((r) => {
      const wc: WorkloadCertificate = new WorkloadCertificate({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        token: "bootstrap",
        clock,
        random: fixed(0.5),
        onIssued: (c) => {
          wc.close();
          r(c);
        },
      });
      wc.start();
    });
    assert.equal(issued.serial, "01");
    await new Promise((r) => setImmediate(r));
    assert.equal(clock.pending(), 0, "no rotation timer after close()");
  } finally {
    server.close();
  }
});

const closers: (() => void)[] = [];

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setImmediate(r));
}
