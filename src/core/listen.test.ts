import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type Server } from "node:net";
import { describe, it } from "node:test";
import { listenOn } from "./listen.ts";

async function closed(server: Server): Promise<void> {
  if (server.listening) await new Promise((resolve) => server.close(resolve));
}

describe("listenOn", () => {
  it("binds an IP literal, resolves with the port picked for 0 and accepts connections", async () => {
    const server = createServer((s) => s.end("hi"));
    try {
      const port = await listenOn(server, "127.0.0.1", 0);
      assert.ok(port > 0);
      assert.deepEqual(server.address(), { address: "127.0.0.1", family: "IPv4", port });
      const client = connect({ host: "127.0.0.1", port });
      const [data] = (await once(client, "data")) as [Buffer];
      assert.equal(data.toString(), "hi");
      client.destroy();
      assert.equal(server.listenerCount("error"), 0);
      assert.equal(server.listenerCount("listening"), 0);
    } finally {
      await closed(server);
    }
  });

  it("rejects with the bind error where the port is taken, and leaves the server as it was", async () => {
    const first = createServer();
    const second = createServer();
    try {
      const port = await listenOn(first, "127.0.0.1", 0);
      await assert.rejects(listenOn(second, "127.0.0.1", port), { code: "EADDRINUSE", port });
      assert.equal(second.listening, false);
      assert.equal(second.listenerCount("error"), 0);
      assert.equal(second.listenerCount("listening"), 0);
      // The same server binds once the port is free.
      await closed(first);
      assert.equal(await listenOn(second, "127.0.0.1", port), port);
    } finally {
      await closed(first);
      await closed(second);
    }
  });

  it("takes a host name through Node's listen (its lookup)", async () => {
    const server = createServer();
    try {
      const port = await listenOn(server, "localhost", 0);
      assert.ok(port > 0);
      assert.equal(server.listening, true);
    } finally {
      await closed(server);
    }
  });

  it("gives Node's errors for a bad port and for a server already listening", async () => {
    const server = createServer();
    try {
      await assert.rejects(listenOn(server, "127.0.0.1", 70000), { code: "ERR_SOCKET_BAD_PORT" });
      await assert.rejects(listenOn(server, "127.0.0.1", 1.5), { code: "ERR_SOCKET_BAD_PORT" });
      assert.equal(server.listenerCount("error") + server.listenerCount("listening"), 0);
      await listenOn(server, "127.0.0.1", 0);
      await assert.rejects(listenOn(server, "127.0.0.1", 0), { code: "ERR_SERVER_ALREADY_LISTEN" });
    } finally {
      await closed(server);
    }
  });

  it("loads neither dns nor cluster (nor child_process, dgram) into the process", async () => {
    const url = new URL("./listen.ts", import.meta.url).href;
    const code = [
      `import { listenOn } from ${JSON.stringify(url)};`,
      `const server = process.getBuiltinModule("node:net").createServer();`,
      `await listenOn(server, "127.0.0.1", 0);`,
      `process.stdout.write(JSON.stringify(process.moduleLoadList));`,
      `server.close();`,
    ].join("\n");
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const [status] = (await once(child, "exit")) as [number];
    assert.equal(status, 0);
    const loaded = JSON.parse(out) as string[];
    assert.ok(loaded.includes("NativeModule net"), "the list is the child's");
    assert.deepEqual(
      loaded.filter((m) => /^NativeModule (dns|cluster|child_process|dgram|internal\/cluster\/\w+)$/.test(m)),
      [],
    );
  });
});
