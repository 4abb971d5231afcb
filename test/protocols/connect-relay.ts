// A local port whose connections are tunnelled through `CONNECT` on a proxy's HTTP listener (as gRPC
// and other HTTP/2 clients that honour http_proxy do): the relay sends the CONNECT, waits for its
// 200, then copies bytes both ways, so a client that knows nothing of proxies (h2spec) speaks
// inside the tunnel. test/protocols/h2spec.test.ts runs h2spec through it.
import { connect, createServer, type Server, type Socket } from "node:net";
import { listen, readUntil } from "./harness.ts";

/** Listen on a free port; each connection is tunnelled through `CONNECT target` to `proxyPort`. */
export async function connectRelay(proxyPort: number, target = "upstream.test:80"): Promise<Server> {
  const relay = createServer((client: Socket) => {
    client.pause();
    const proxy = connect({ port: proxyPort, host: "127.0.0.1" });
    const close = (): void => {
      client.destroy();
      proxy.destroy();
    };
    client.on("error", close);
    client.on("close", () => proxy.destroy());
    proxy.on("error", close);
    proxy.on("close", () => {
      // The proxy's close reaches the client after every byte before it (end, not destroy). The
      // pipe's unpipe pauses the client; what it sends from now on has nowhere to go: it is read
      // and dropped, so the client's FIN is seen and the connection closes. Left paused, a client
      // that writes after the tunnel closed (h2spec, once a connection error is on its way) and
      // then ends would hold the connection open for good, and the relay's close() with it.
      client.unpipe(proxy);
      client.end();
      client.resume();
    });
    proxy.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`);
    readUntil(proxy, (b) => b.includes("\r\n\r\n")).then(
      (head) => {
        const end = head.indexOf("\r\n\r\n") + 4;
        if (!head.toString("latin1", 0, end).startsWith("HTTP/1.1 200 ")) return close();
        if (end < head.length) client.write(head.subarray(end));
        client.pipe(proxy);
        proxy.pipe(client);
        client.resume();
      },
      close,
    );
  });
  await listen(relay);
  return relay;
}
