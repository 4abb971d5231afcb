// Mirroring for HTTP/2 downstreams: an h2c request (curl --http2-prior-knowledge) on a route with
// a mirror policy reaches its main cluster, and a copy goes to the mirror cluster with Host
// `<authority>-shadow` and the same body (Istio's VirtualService `mirror`; Envoy's
// request_mirror_policies), while the client gets the main cluster's answer.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, run } from "./harness.ts";
import { h2Config } from "./h2-harness.ts";

interface Copy {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("HTTP/2 downstream mirroring", () => {
  let main: Server;
  let mirror: Server;
  let sidecar: Sidecar;
  let port = 0;
  const copies: Copy[] = [];
  let onCopy: (() => void) | null = null;

  before(async () => {
    main = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("main"));
    });
    mirror = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (s: string) => (body += s));
      req.on("end", () => {
        copies.push({ url: req.url ?? "", headers: req.headers, body });
        res.end("mirror");
        onCopy?.();
      });
    });
    const mainPort = await listen(main);
    const mirrorPort = await listen(mirror);
    sidecar = await Sidecar.start(
      h2Config(
        {},
        [{ name: "m", prefix: "/", cluster: "main", domains: ["reviews:9080"], mirrors: [{ cluster: "mirror", percentage: 100 }] }],
        [
          { name: "main", ports: [mainPort] },
          { name: "mirror", ports: [mirrorPort] },
        ],
      ),
    );
    port = sidecar.ports().outbound!;
  });

  after(async () => {
    await sidecar.close(100);
    await closeServer(main);
    await closeServer(mirror);
  });

  it("an h2c request is answered by the main cluster and copied to the mirror with the -shadow host", async () => {
    const copied = new Promise<void>((resolve) => (onCopy = resolve));
    const r = await run("curl", ["--silent", "--show-error", "--max-time", "5", "--http2-prior-knowledge", "-H", "host: reviews:9080", "--data-binary", "copy me", `http://127.0.0.1:${port}/reviews/1?x=y`], "", 8000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "main");
    await copied;
    assert.equal(copies.length, 1);
    const c = copies[0]!;
    assert.equal(c.url, "/reviews/1?x=y");
    assert.equal(c.headers.host, "reviews-shadow:9080");
    assert.equal(c.body, "copy me");
    assert.equal(c.headers["x-forwarded-for"], "127.0.0.1");
  });
});
