// The client against a tiny node:http stand-in of the control plane's API: refusals are results,
// other error answers and transport failures are ControlPlaneErrors with stable codes.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { ControlPlaneClient, ControlPlaneError, headerSafe } from "./control-plane-client.ts";

let server: Server;
let base = "";
const seen: { method: string; url: string; source: string | undefined; body: string }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", source: req.headers["x-amime-source"] as string | undefined, body });
      const send = (status: number, value: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" }).end(typeof value === "string" ? value : JSON.stringify(value));
      };
      if (req.url === "/api/v1/apply") return send(body.includes("bad") ? 422 : 200, { applied: !body.includes("bad"), changes: [], diagnostics: [], version: "v2" });
      if (req.url === "/api/v1/delete") return send(500, { error: "disk on fire" });
      if (req.url?.startsWith("/api/v1/resources")) return send(200, { items: [] });
      if (req.url === "/api/v1/proxies") return send(200, "not json");
      if (req.url?.startsWith("/api/v1/proxies/")) return send(404, { error: "nothing pushed to x yet" });
      send(404, { error: "no such endpoint" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const code = (c: string) => (e: unknown): boolean => e instanceof ControlPlaneError && e.code === c;

test("apply sends text and x-amime-source; 422 is a refusal result, not an error", async () => {
  const client = new ControlPlaneClient(base);
  assert.equal((await client.apply("kind: X", "a.yaml")).applied, true);
  assert.equal((await client.apply("bad", "b.yaml")).applied, false);
  assert.deepEqual(seen.slice(-2).map((s) => [s.method, s.url, s.source, s.body]), [["POST", "/api/v1/apply", "a.yaml", "kind: X"], ["POST", "/api/v1/apply", "b.yaml", "bad"]]);
  await assert.rejects(client.delete("x", "c.yaml"), (e: unknown) => code("CP_HTTP")(e) && /answered 500 to \/api\/v1\/delete: disk on fire/.test((e as Error).message));
});

test("queries, 404s and malformed answers", async () => {
  const client = new ControlPlaneClient(base);
  await client.resources({ kind: "VirtualService", namespace: "default", name: "a b" });
  assert.equal(seen.at(-1)?.url, "/api/v1/resources?kind=VirtualService&namespace=default&name=a+b");
  await assert.rejects(client.proxyConfig("sidecar~x.default"), code("CP_NOT_FOUND"));
  assert.equal(seen.at(-1)?.url, "/api/v1/proxies/sidecar~x.default/config");
  await assert.rejects(client.proxies(), code("CP_BAD_RESPONSE"));
});

test("an unreachable control plane names the address and where it came from", async () => {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
  const port = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const client = new ControlPlaneClient(`http://127.0.0.1:${port}`, { from: "/p/.amime/up.json" });
  await assert.rejects(client.status(), (e: unknown) => code("CP_UNREACHABLE")(e) && (e as Error).message.includes(`http://127.0.0.1:${port} (from /p/.amime/up.json): ECONNREFUSED; is \`amime up\` still running?`));
});

test("headerSafe keeps printable ASCII and percent-encodes the rest", () => {
  assert.equal(headerSafe("dir/my file.yaml"), "dir/my file.yaml");
  assert.equal(headerSafe("ルート.yaml"), "%E3%83%AB%E3%83%BC%E3%83%88.yaml");
});
