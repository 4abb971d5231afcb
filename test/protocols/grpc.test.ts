// gRPC through the sidecar, end to end with @grpc/grpc-js on both sides (a generic service with
// raw-bytes serializers, no .proto): unary with metadata and trailers, server / client / bidi
// streaming, a route timeout shorter than the handler (DEADLINE_EXCEEDED from the proxy), a
// grpcStatus fault abort, UNAVAILABLE with no upstream, UNIMPLEMENTED with no route, and a retry
// on `unavailable` after a trailers-only UNAVAILABLE answer.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { connect as h2connect } from "node:http2";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { h2Config, NO_RETRY } from "./h2-harness.ts";

const raw = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path,
  requestStream,
  responseStream,
  requestSerialize: raw.serialize,
  requestDeserialize: raw.deserialize,
  responseSerialize: raw.serialize,
  responseDeserialize: raw.deserialize,
});
const SERVICE = {
  echo: method("/test.Echo/Echo", false, false),
  slow: method("/test.Echo/Slow", false, false),
  flaky: method("/test.Echo/Flaky", false, false),
  list: method("/test.Echo/List", false, true),
  sum: method("/test.Echo/Sum", true, false),
  chat: method("/test.Echo/Chat", true, true),
} as const;
const Client = grpc.makeGenericClientConstructor(SERVICE, "Echo");

type AnyClient = grpc.Client & Record<string, (...a: unknown[]) => unknown>;

function unary(c: AnyClient, name: string, msg: string, md = new grpc.Metadata(), deadlineMs = 5000): Promise<{ reply?: string; err?: grpc.ServiceError; trailers?: grpc.Metadata }> {
  return new Promise((resolve) => {
    let trailers: grpc.Metadata | undefined;
    const call = c[name]!(Buffer.from(msg), md, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply?: Buffer) =>
      // The status (with its trailers) may come after the callback: read it on the next turn.
      setImmediate(() => resolve(err ? { err, trailers } : { reply: reply!.toString(), trailers })),
    ) as grpc.ClientUnaryCall;
    call.on("status", (s: grpc.StatusObject) => (trailers = s.metadata));
  });
}

describe("gRPC through the sidecar", () => {
  let server: grpc.Server;
  let sidecar: Sidecar;
  let client: AnyClient;
  let flakyCalls = 0;
  let echoCalls = 0;

  before(async () => {
    server = new grpc.Server();
    server.addService(SERVICE, {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        echoCalls++;
        const tr = new grpc.Metadata();
        tr.set("x-trailer", "kept");
        cb(null, Buffer.from(`echo:${call.request.toString()}:${call.metadata.get("x-user")[0] ?? ""}`), tr);
      },
      // Never answers: whatever the client gets is the proxy's.
      slow: () => undefined,
      flaky: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        flakyCalls++;
        if (flakyCalls % 2 === 1) cb({ code: grpc.status.UNAVAILABLE, details: "try again" });
        else cb(null, Buffer.from(`ok after ${flakyCalls}`));
      },
      list: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const n = Number(call.request.toString());
        for (let i = 0; i < n; i++) call.write(Buffer.from(`item${i}`));
        call.end();
      },
      sum: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        let total = 0;
        call.on("data", (b: Buffer) => (total += Number(b.toString())));
        call.on("end", () => cb(null, Buffer.from(String(total))));
      },
      chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on("data", (b: Buffer) => call.write(Buffer.from(`re:${b.toString()}`)));
        call.on("end", () => call.end());
      },
    });
    const upPort = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const retry = { ...NO_RETRY, attempts: 2, retryOn: ["unavailable"], backoffBaseMs: 1, backoffMaxMs: 2, retryIgnorePreviousHosts: false };
    sidecar = await Sidecar.start(
      h2Config(
        {},
        [
          { name: "slow", prefix: "/test.Echo/Slow", cluster: "grpc", timeoutMs: 200 },
          { name: "flaky", prefix: "/test.Echo/Flaky", cluster: "grpc", retry },
          { name: "abort", prefix: "/test.Echo/Echo", cluster: "grpc", fault: { abort: { grpcStatus: "RESOURCE_EXHAUSTED", percentage: 100 } }, domains: ["faulty.test"] },
          { name: "none", prefix: "/", cluster: "empty", domains: ["down.test"] },
          { name: "deadline", prefix: "/", cluster: "grpc", domains: ["deadline.test"] },
          { name: "rest", prefix: "/test.Echo/", cluster: "grpc" },
        ],
        [
          { name: "grpc", protocol: "http2", ports: [upPort] },
          { name: "empty", protocol: "http2", ports: [] },
        ],
      ),
    );
    client = new Client(`127.0.0.1:${sidecar.ports().outbound}`, grpc.credentials.createInsecure()) as unknown as AnyClient;
  });

  after(async () => {
    client.close();
    await sidecar.close(100);
    server.forceShutdown();
  });

  const clientFor = (authority: string): AnyClient =>
    new Client(`127.0.0.1:${sidecar.ports().outbound}`, grpc.credentials.createInsecure(), { "grpc.default_authority": authority }) as unknown as AnyClient;

  it("unary: request metadata reaches the server, the reply and trailing metadata come back", async () => {
    const md = new grpc.Metadata();
    md.set("x-user", "ann");
    const r = await unary(client, "echo", "hi", md);
    assert.equal(r.err, undefined);
    assert.equal(r.reply, "echo:hi:ann");
    assert.deepEqual(r.trailers?.get("x-trailer"), ["kept"]);
  });

  it("server streaming", async () => {
    const items: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.list!(Buffer.from("50"), {}) as grpc.ClientReadableStream<Buffer>;
      call.on("data", (b: Buffer) => items.push(b.toString()));
      call.on("error", reject);
      call.on("end", () => resolve());
    });
    assert.equal(items.length, 50);
    assert.equal(items[49], "item49");
  });

  it("client streaming", async () => {
    const total = await new Promise<string>((resolve, reject) => {
      const call = client.sum!((e: grpc.ServiceError | null, r?: Buffer) => (e ? reject(e) : resolve(r!.toString()))) as grpc.ClientWritableStream<Buffer>;
      for (let i = 1; i <= 100; i++) call.write(Buffer.from(String(i)));
      call.end();
    });
    assert.equal(total, "5050");
  });

  it("bidi streaming: replies interleave with requests", async () => {
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.chat!() as grpc.ClientDuplexStream<Buffer, Buffer>;
      let i = 0;
      const next = (): void => {
        if (i === 5) return void call.end();
        call.write(Buffer.from(`m${i++}`));
      };
      // Each message is sent only after the previous reply: proves the streams are not buffered to the end.
      call.on("data", (b: Buffer) => {
        got.push(b.toString());
        next();
      });
      call.on("error", reject);
      call.on("end", () => resolve());
      next();
    });
    assert.deepEqual(got, ["re:m0", "re:m1", "re:m2", "re:m3", "re:m4"]);
  });

  it("a route timeout on a handler that never answers: DEADLINE_EXCEEDED from the proxy", async () => {
    const r = await unary(client, "slow", "x");
    assert.equal(r.err?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(r.err?.details, "upstream request timeout");
  });

  it("fault abort with grpcStatus: the client sees that status, the server nothing", async () => {
    const before = echoCalls;
    const c = clientFor("faulty.test");
    const r = await unary(c, "echo", "x");
    c.close();
    assert.equal(r.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(r.err?.details, "fault filter abort");
    assert.equal(echoCalls, before);
  });

  it("no upstream: UNAVAILABLE (not an HTTP 503 body)", async () => {
    const c = clientFor("down.test");
    const r = await unary(c, "echo", "x");
    c.close();
    assert.equal(r.err?.code, grpc.status.UNAVAILABLE);
    assert.equal(r.err?.details, "no healthy upstream");
  });

  it("no route: UNIMPLEMENTED", async () => {
    const r = await unary(client, "echo", "x", new grpc.Metadata());
    assert.equal(r.err, undefined); // sanity: the default authority routes
    const c = new Client(`127.0.0.1:${sidecar.ports().outbound}`, grpc.credentials.createInsecure()) as unknown as AnyClient;
    const other = await new Promise<grpc.ServiceError | null>((resolve) => c.makeUnaryRequest("/other.Svc/Call", raw.serialize, raw.deserialize, Buffer.from("x"), (e) => resolve(e)));
    c.close();
    assert.equal(other?.code, grpc.status.UNIMPLEMENTED);
  });

  it("retryOn unavailable: a trailers-only UNAVAILABLE is retried and the client sees OK", async () => {
    const before = flakyCalls;
    const r = await unary(client, "flaky", "x");
    assert.equal(r.err, undefined, r.err?.message);
    assert.equal(flakyCalls - before, 2);
    assert.equal(r.reply, `ok after ${flakyCalls}`);
  });

  it("grpc-timeout caps the route timeout: a raw HTTP/2 client without its own timer gets DEADLINE_EXCEEDED", async () => {
    const session = h2connect(`http://127.0.0.1:${sidecar.ports().outbound}`);
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = session.request({ ":method": "POST", ":path": "/test.Echo/Slow", ":authority": "deadline.test", "content-type": "application/grpc", te: "trailers", "grpc-timeout": "150m" });
        req.on("response", (h) => resolve(h as Record<string, unknown>));
        req.on("error", reject);
        req.end(Buffer.from([0, 0, 0, 0, 1, 0x78]));
        req.resume();
      });
      assert.equal(headers[":status"], 200);
      assert.equal(headers["grpc-status"], "4");
    } finally {
      session.close();
    }
  });
});
