// The CONNECT relay h2spec.test.ts tunnels h2spec through (connect-relay.ts), against a stand-in
// proxy that answers the CONNECT and then closes the tunnel, as the sidecar does after an HTTP/2
// connection error (GOAWAY, then FIN).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { connectRelay } from "./connect-relay.ts";
import { closeServer, listen, readUntil } from "./harness.ts";
import { within } from "../support/wait.ts";

describe("the CONNECT relay", () => {
  it("a client that writes after the tunnel closed, then ends, leaves no connection open (the relay's close completes)", async () => {
    let proxySocketClosed!: Promise<void>;
    const proxy = createServer((s: Socket) => {
      s.on("error", () => undefined);
      proxySocketClosed = new Promise((r) => s.once("close", () => r()));
      readUntil(s, (b) => b.includes("\r\n\r\n")).then(
        () => {
          s.write("HTTP/1.1 200 Connection established\r\n\r\n");
          // The first bytes through the tunnel: its last bytes, then the close.
          s.once("data", () => s.end("goaway"));
        },
        () => s.destroy(),
      );
    });
    await listen(proxy);
    const relay = await connectRelay((proxy.address() as { port: number }).port);
    // Its connections, so that a failure here leaves none behind.
    const accepted: Socket[] = [];
    relay.on("connection", (s: Socket) => accepted.push(s));

    // Half-open as h2spec's Go connection: the relay's FIN does not end this side.
    const client = connect({ port: (relay.address() as { port: number }).port, host: "127.0.0.1", allowHalfOpen: true });
    try {
      client.on("error", () => undefined);
      let received = "";
      client.on("data", (b: Buffer) => (received += b.toString("latin1")));
      const ended = new Promise<void>((r) => client.once("end", () => r()));
      const clientClosed = new Promise<void>((r) => client.once("close", () => r()));
      client.write("hello");
      await within(ended, { what: "the tunnel's close to reach the client" });
      assert.equal(received, "goaway", "every byte before the proxy's close reaches the client");
      // The relay's side toward the proxy is closed both ways: what the client sends now has nowhere to go.
      await within(proxySocketClosed, { what: "the proxy's side of the tunnel to close" });
      client.end("late");
      await within(clientClosed, { what: "the client's socket to close" });
      await within(closeServer(relay), { what: "the relay's close (it waits for its last connection)" });
    } finally {
      client.destroy();
      for (const s of accepted) s.destroy();
      relay.close();
      await closeServer(proxy);
    }
  });
});
