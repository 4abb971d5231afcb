// HTTP/2 conformance of the sidecar's downstream side (Amime's own framing, src/proxy/http2/codec/):
// h2spec (github.com/summerwind/h2spec; built by test/protocols/h2spec/build.sh into ~/.cache/amime,
// as .ci/run does; test/protocols/h2spec/README.md) runs all its cases, the strict ones too
// (`--strict`: 146 — generic, RFC 7540/9113 §3–§8, RFC 7541), against a listener that forwards to
// an HTTP/1.1 upstream: as h2c (prior knowledge), as h2c inside a CONNECT tunnel, and over TLS with
// ALPN h2. Its JUnit report (`-j`) gives each case's outcome; every case must pass but the short
// list of knowing differences below (the same list, with the reasons, is in docs/protocols.md,
// "HTTP/2 downstream (h2c and ALPN h2)"). A listed case that starts passing fails the test too, so
// the list stays true.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, run } from "./harness.ts";
import { connectRelay } from "./connect-relay.ts";
import { h2Config } from "./h2-harness.ts";
import { makePki, type Pki } from "./pki.ts";
import { within } from "../support/wait.ts";

/** h2spec v2.2.1 with --strict. */
const CASES = 146;

/** Cases the h2c listener knowingly fails, by h2spec id (`h2spec <id>` runs one), and why. */
const H2C_DIFFERENCES: Record<string, string> = {
  // The h2c listener also serves HTTP/1.1 on the same port (Envoy's codec_type AUTO, as Istio
  // configures a sidecar's HTTP listeners): bytes that are not the HTTP/2 preface go to the
  // HTTP/1.1 codec, to which "INVALID CONNECTION PREFACE" is a malformed request line, answered
  // `400 Bad Request` and closed. h2spec wants the bare close of an HTTP/2-only server. Over TLS the
  // connection is HTTP/2 from ALPN on, and the same case passes.
  "http2/3.5/2": "an invalid preface is an HTTP/1.1 request to a listener that serves both: 400, then close",
};

interface CaseResult {
  id: string;
  desc: string;
  /** "" when it passed; else "skipped", or h2spec's expected / actual text. */
  problem: string;
}

/** Each case of h2spec's JUnit report: `<testsuite package="http2/5.1">`'s n-th testcase is `http2/5.1/n`. */
function parseJUnit(xml: string): CaseResult[] {
  const out: CaseResult[] = [];
  const seen = new Map<string, number>();
  for (const m of xml.matchAll(/<testcase package="([^"]+)" classname="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)) {
    const pkg = m[1] as string;
    const n = (seen.get(pkg) ?? 0) + 1;
    seen.set(pkg, n);
    const body = (m[3] as string).trim();
    const problem = body === "" ? "" : body.startsWith("<skipped") ? "skipped" : body.replace(/<\/?(failure|error)[^>]*>/g, "");
    out.push({ id: `${pkg}/${n}`, desc: unescape(m[2] as string), problem: unescape(problem) });
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/&#xA;/g, "\n").replace(/&#34;|&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

describe("h2spec against the sidecar's HTTP/2 downstream", () => {
  let upstream: Server;
  let sidecar: Sidecar;
  let tlsSidecar: Sidecar;
  let relay: TcpServer;
  let pki: Pki;
  let h2spec = "";
  const reports = mkdtempSync(join(tmpdir(), "amime-h2spec-"));

  before(async () => {
    const built = await run(join(import.meta.dirname, "h2spec", "build.sh"), [], "", 600_000);
    assert.equal(built.code, 0, built.stderr);
    h2spec = built.stdout.trim();
    // A body of at least 5 bytes: h2spec's http2/6.9.2/2 (a negative stream window) needs one to hold back.
    upstream = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("h2spec answer from the upstream\n"));
    });
    const upstreamPort = await listen(upstream);
    const routes = [{ name: "all", cluster: "up" }];
    const clusters = [{ name: "up", ports: [upstreamPort] }];
    sidecar = await Sidecar.start(h2Config({}, routes, clusters));
    // h2spec sends the host it dials as SNI (Go sends none for an IP address): `localhost`.
    pki = await makePki({ gw: ["localhost"] });
    const gw = pki.leaf("gw");
    tlsSidecar = await Sidecar.start(h2Config({ tls: { servers: [{ hosts: ["localhost"], mode: "SIMPLE", serverCertificate: gw.cert, privateKey: gw.key }] } }, routes, clusters));
    relay = await connectRelay(sidecar.ports().outbound!);
  });

  after(async () => {
    // Each step bounded and named, the next ones run all the same: a step that hangs fails the hook
    // saying which (not the suite's 180 s timeout, with the file then held open to the watchdog's 300 s).
    const steps: [string, () => Promise<void>][] = [
      ["the CONNECT relay to close (it waits for its last connection)", () => closeServer(relay)],
      ["the h2c sidecar to close", () => sidecar.close(100)],
      ["the TLS sidecar to close", () => tlsSidecar.close(100)],
      ["the upstream to close", () => closeServer(upstream)],
    ];
    const failed: string[] = [];
    for (const [what, step] of steps) {
      try {
        await within(step(), { what });
      } catch (e) {
        failed.push(e instanceof Error ? e.message : String(e));
      }
    }
    pki.cleanup();
    rmSync(reports, { recursive: true, force: true });
    assert.deepEqual(failed, []);
  });

  /** Run every case (strict included) and return each one's outcome. `-o 10`: a case only waits that long when it fails. */
  async function h2specRun(name: string, args: string[]): Promise<CaseResult[]> {
    const report = join(reports, `${name}.xml`);
    const r = await run(h2spec, [...args, "--strict", "-o", "10", "-j", report], "", 300_000);
    const summary = /(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/.exec(r.stdout);
    assert.ok(summary, `h2spec exited ${r.code}: ${r.stdout.slice(-2000)} ${r.stderr}`);
    const cases = parseJUnit(readFileSync(report, "utf8"));
    assert.equal(cases.length, CASES, summary[0]);
    assert.equal(cases.filter((c) => c.problem === "").length, Number(summary[2]), "the JUnit report agrees with h2spec's summary");
    return cases;
  }

  function notPassing(cases: CaseResult[]): Record<string, string> {
    return Object.fromEntries(cases.filter((c) => c.problem !== "").map((c) => [c.id, `${c.desc}: ${c.problem}`]));
  }

  it(`h2c (prior knowledge): every case passes but ${Object.keys(H2C_DIFFERENCES).join(", ")}`, async () => {
    const cases = await h2specRun("h2c", ["-h", "127.0.0.1", "-p", String(sidecar.ports().outbound)]);
    const failed = notPassing(cases);
    assert.deepEqual(Object.keys(failed).sort(), Object.keys(H2C_DIFFERENCES).sort(), JSON.stringify(failed, null, 1));
    // The difference is the one described: an HTTP/1.1 answer where h2spec wanted a close.
    assert.match(failed["http2/3.5/2"] ?? "", /HTTP\/1\.1/);
  });

  it("h2c inside a CONNECT tunnel on the outbound listener: every case passes but the same", async () => {
    // Inside the tunnel the first bytes are detected as on the listener: not the preface → HTTP/1.1.
    const cases = await h2specRun("connect", ["-h", "127.0.0.1", "-p", String((relay.address() as AddressInfo).port)]);
    const failed = notPassing(cases);
    assert.deepEqual(Object.keys(failed).sort(), Object.keys(H2C_DIFFERENCES).sort(), JSON.stringify(failed, null, 1));
    assert.match(failed["http2/3.5/2"] ?? "", /HTTP\/1\.1/);
  });

  it("TLS with ALPN h2: every case passes", async () => {
    const cases = await h2specRun("tls", ["-t", "-k", "-h", "localhost", "-p", String(tlsSidecar.ports().outbound)]);
    assert.deepEqual(notPassing(cases), {});
  });
});
