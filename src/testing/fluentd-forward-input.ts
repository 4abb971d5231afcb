// A Fluentd forward input for tests: a real TCP server decoding each message with msgpack (npm
// @msgpack/msgpack) as Fluentd's in_forward does — Forward mode `[tag, [[time, record], …], option]`
// with EventTime as ext type 0 — and answering `{ack: chunk}` when the option asks for one.
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { decodeMultiStream, encode, type ExtData } from "@msgpack/msgpack";

export type ForwardMessage = [string, [ExtData, Record<string, unknown>][], { size?: number; chunk?: string }];

export interface ForwardInput {
  port: number;
  /** Every message decoded, in arrival order. */
  messages: ForwardMessage[];
  until(n: number): Promise<void>;
  /** Stops listening and cuts the connections (a Fluentd that is gone). */
  close(): Promise<void>;
}

/** A forward input on 127.0.0.1:0 that records every message and acks it unless `withhold(n)` for the n-th. */
export async function forwardInput(withhold: (n: number) => boolean = () => false): Promise<ForwardInput> {
  const messages: ForwardMessage[] = [];
  const waiters: { n: number; r: () => void }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    void (async () => {
      try {
        for await (const m of decodeMultiStream(sock)) {
          messages.push(m as ForwardMessage);
          const chunk = (m as ForwardMessage)[2]?.chunk;
          if (chunk !== undefined && !withhold(messages.length)) sock.write(encode({ ack: chunk }));
          for (const w of waiters.filter((x) => messages.length >= x.n)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.r();
          }
        }
      } catch {
        // connection cut
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    until: (n) => (messages.length >= n ? Promise.resolve() : new Promise((r) => waiters.push({ n, r }))),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

