// DogStatsD lines sent over a real UDP socket to a receiver bound on port 0, checked against
// Datadog's documented datagram format: `<METRIC_NAME>:<VALUE>|<TYPE>|@<SAMPLE_RATE>|#<TAG_KEY>:<TAG_VALUE>,…`.
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { systemClock } from "../../../core/clock.ts";
import { IstioMetrics } from "../metrics/istio-metrics.ts";
import type { HopFacts } from "../metrics/labels.ts";
import { identityOf } from "../peer.ts";
import { DogStatsdExporter } from "./dogstatsd-exporter.ts";
import { packDatagrams, tagText } from "./format.ts";

/** Datadog's datagram line: name, value, type, optional sample rate, optional tags. */
const DATADOG_LINE = /^[A-Za-z][A-Za-z0-9_.]*:-?[0-9]+(\.[0-9]+)?\|(c|g|h|d|ms|s)(\|@(0(\.[0-9]+)?|1))?(\|#[^,|#\s]+(,[^,|#\s]+)*)?$/;

const self = identityOf({ id: "sidecar~web-0.default", kind: "sidecar", workload: "web", namespace: "default", labels: { app: "web", version: "v1" }, serviceAccount: "web", trustDomain: "cluster.local", ip: "127.0.0.1" });
const svc = { host: "reviews.default.svc.cluster.local", name: "reviews", namespace: "default", port: 9080 };
function facts(o: Partial<HopFacts>): HopFacts {
  return { reporter: "source", self, peer: null, service: svc, endpoint: undefined, mtls: false, peerPrincipal: "", protocol: "http", responseCode: "200", grpcStatus: "", responseFlags: "-", ...o };
}

async function receiver(): Promise<{ sock: Socket; port: number; lines: string[]; datagrams: number; until(n: number): Promise<void> }> {
  const sock = createSocket("udp4");
  const state = { lines: [] as string[], datagrams: 0, waiters: [] as { n: number; r: () => void }[] };
  sock.on("message", (m) => {
    state.datagrams++;
    state.lines.push(...m.toString().split("\n"));
    for (const w of state.waiters.filter((x) => state.lines.length >= x.n)) {
      state.waiters.splice(state.waiters.indexOf(w), 1);
      w.r();
    }
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  return {
    sock,
    port: (sock.address() as AddressInfo).port,
    lines: state.lines,
    get datagrams() {
      return state.datagrams;
    },
    until: (n) => (state.lines.length >= n ? Promise.resolve() : new Promise((r) => state.waiters.push({ n, r }))),
  };
}

describe("DogStatsD", () => {
  it("sends what changed since the last interval as Datadog lines, tagged with Istio's labels", async () => {
    const rx = await receiver();
    const store = new IstioMetrics();
    const ex = new DogStatsdExporter({ store, clock: systemClock, resource: {} }, `127.0.0.1:${rx.port}`, "envoy");
    try {
      for (let i = 0; i < 3; i++) store.recordHttp("a", () => facts({}), { durationMs: 2 + i, requestBytes: 0, responseBytes: 300 });
      store.recordHttp("b", () => facts({ responseCode: "503", responseFlags: "UO,URX" }), { durationMs: 40, requestBytes: 10, responseBytes: 90 });
      ex.collect();
      await ex.flush();
      // a: 1 counter + 3 histograms × 1 bucket each; b: the same.
      await rx.until(8);
      for (const l of rx.lines) assert.match(l, DATADOG_LINE);
      const ok = rx.lines.filter((l) => l.includes("response_code:200"));
      const count = ok.find((l) => l.startsWith("envoy.istio_requests_total:"));
      assert.match(count ?? "", /^envoy\.istio_requests_total:3\|c\|#reporter:source,source_workload:web,/);
      // Three durations (2, 3, 4 ms) in the (1, 5] bucket: one sample of their mean standing for three.
      assert.match(ok.find((l) => l.startsWith("envoy.istio_request_duration_milliseconds:")) ?? "", /^envoy\.istio_request_duration_milliseconds:3\|d\|@0\.3333333333333333\|#/);
      const flagged = rx.lines.find((l) => l.startsWith("envoy.istio_requests_total:1|c") && l.includes("response_code:503"));
      assert.match(flagged ?? "", /,response_flags:UO_URX,/);
      assert.deepEqual({ sent: ex.counters.sent, dropped: ex.counters.dropped }, { sent: 8, dropped: 0 });

      // Next interval: only the new request, as an increment.
      store.recordHttp("a", () => facts({}), { durationMs: 700, requestBytes: 0, responseBytes: 300 });
      ex.collect();
      await ex.flush();
      await rx.until(12);
      const next = rx.lines.slice(8);
      assert.equal(next.find((l) => l.startsWith("envoy.istio_requests_total:"))?.split("|")[0], "envoy.istio_requests_total:1");
      assert.match(next.find((l) => l.startsWith("envoy.istio_request_duration_milliseconds:")) ?? "", /^envoy\.istio_request_duration_milliseconds:700\|d\|#/);
    } finally {
      await ex.close();
      rx.sock.close();
    }
  });

  it("TCP counters as increments; no prefix when it is empty", async () => {
    const rx = await receiver();
    const store = new IstioMetrics();
    const ex = new DogStatsdExporter({ store, clock: systemClock, resource: {} }, `127.0.0.1:${rx.port}`, "");
    try {
      const s = store.tcpSeries("t", () => facts({ protocol: "tcp" }));
      assert.ok(s);
      s.opened = 2;
      s.sentBytes = 1500;
      ex.collect();
      await ex.flush();
      await rx.until(2);
      assert.deepEqual(rx.lines.map((l) => l.split("|")[0]).sort(), ["istio_tcp_connections_opened_total:2", "istio_tcp_sent_bytes_total:1500"]);
    } finally {
      await ex.close();
      rx.sock.close();
    }
  });

  it("packs lines into datagrams of at most 1432 bytes and makes tag text safe", () => {
    const lines = Array.from({ length: 30 }, (_, i) => `m${i}:1|c|#${"x".repeat(100)}`);
    const d = packDatagrams(lines);
    assert.ok(d.length > 1);
    for (const x of d) assert.ok(Buffer.byteLength(x) <= 1432);
    assert.deepEqual(d.join("\n").split("\n"), lines);
    assert.equal(tagText("a,b|c#d e\nf"), "a_b_c_d_e_f");
  });
});
