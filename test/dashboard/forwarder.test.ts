// The dashboard's loopback forwarder (src/dashboard/forwarder/) in front of a real control plane
// (port 0, https with the mesh CA): a browser-like client on plain http signs in with a login
// code, keeps a session cookie that is HttpOnly and SameSite=Strict but not Secure, reads the
// event stream and posts the sign-in form with its own Origin; foreign Hosts and Origins are
// refused by the forwarder; a control plane whose certificate does not chain to the given root
// is not reached until the roots it is given change to the right ones.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { createDashboardHandler } from "../../src/dashboard/server/handler.ts";
import { DashboardForwarder } from "../../src/dashboard/forwarder/forwarder.ts";
import { SERVICES_YAML } from "../control-plane/mesh-harness.ts";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One plain-http request with exactly these headers (Host included), as a browser sends it. */
function send(port: number, method: string, path: string, headers: Record<string, string>, body = ""): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, setHost: false, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("dashboard forwarder", { timeout: 60_000 }, () => {
  let dir: string;
  let cp: ControlPlane;
  let fwd: DashboardForwarder;
  let host = "";
  let cookie = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "amime-forwarder-"));
    writeFileSync(join(dir, "services.yaml"), SERVICES_YAML);
    cp = await ControlPlane.start({ dashboard: createDashboardHandler, port: 0, configPaths: [dir], debounceMs: 10, watch: false });
    fwd = await DashboardForwarder.start({ target: cp.url, ca: () => cp.trustBundle });
    host = `127.0.0.1:${fwd.port}`;
  });
  after(async () => {
    await fwd?.close();
    await cp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("listens on loopback only", () => {
    assert.equal(fwd.url, `http://127.0.0.1:${fwd.port}`);
    assert.ok(fwd.port > 0);
  });

  it("signs in with a login code: the cookie keeps HttpOnly and SameSite=Strict, not Secure", async () => {
    const { code } = cp.sessions.mintLoginCode({ kind: "admin", name: "test" });
    const r = await send(fwd.port, "GET", `/dashboard/login?code=${code}`, { host, "sec-fetch-site": "none" });
    assert.equal(r.status, 303, r.body);
    assert.equal(r.headers.location, "/dashboard/");
    const set = (r.headers["set-cookie"] as string[])[0] ?? "";
    assert.match(set, /^amime_session=[A-Za-z0-9_-]{20,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    cookie = set.split(";")[0]!;
    const home = await send(fwd.port, "GET", "/dashboard/", { host, cookie });
    assert.equal(home.status, 200);
    assert.match(home.body, /importmap/);
    // Without a session the control plane's redirect to the sign-in page comes through as is.
    const anon = await send(fwd.port, "GET", "/dashboard/", { host: `localhost:${fwd.port}` });
    assert.equal(anon.status, 303);
    assert.equal(anon.headers.location, "/dashboard/login");
  });

  it("posts the sign-in form from its own origin; the session still cannot change config", async () => {
    const form = { host, origin: `http://${host}`, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" };
    const ok = await send(fwd.port, "POST", "/dashboard/login", form, `token=${encodeURIComponent(cp.adminToken)}`);
    assert.equal(ok.status, 303, ok.body);
    assert.doesNotMatch(String(ok.headers["set-cookie"]), /Secure/);
    const apply = await send(fwd.port, "POST", "/api/v1/apply", { ...form, cookie, "content-type": "text/yaml" }, "kind: VirtualService\n");
    assert.equal(apply.status, 403);
    assert.match(apply.body, /CP_FORBIDDEN/);
  });

  it("refuses Hosts other than 127.0.0.1:PORT and localhost:PORT (DNS rebinding)", async () => {
    for (const h of ["evil.example", `evil.example:${fwd.port}`, "127.0.0.1", `127.0.0.1:${fwd.port + 1}`, new URL(cp.url).host]) {
      const r = await send(fwd.port, "GET", "/dashboard/api/config", { host: h, cookie });
      assert.equal(r.status, 403, h);
      assert.match(r.body, /CP_FOREIGN_HOST/, h);
    }
  });

  it("refuses other Origins and cross-site fetches (CSRF)", async () => {
    for (const origin of ["http://evil.example", `https://${host}`, new URL(cp.url).origin, `http://localhost:${fwd.port}`]) {
      const r = await send(fwd.port, "POST", "/dashboard/login", { host, origin, "content-type": "application/x-www-form-urlencoded" }, `token=${encodeURIComponent(cp.adminToken)}`);
      assert.equal(r.status, 403, origin);
      assert.match(r.body, /CP_CROSS_SITE/, origin);
      assert.equal(r.headers["set-cookie"], undefined);
    }
    const site = await send(fwd.port, "GET", "/dashboard/api/config", { host, cookie, "sec-fetch-site": "cross-site" });
    assert.equal(site.status, 403);
  });

  it("streams server-sent events through", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: fwd.port, path: "/dashboard/api/events?window=1m", headers: { host, cookie }, setHost: false, agent: false }, (res) => {
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
          if (/event: status\ndata: .*\n\n/.test(text)) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on("error", reject);
      req.end();
    });
    assert.match(body, /event: graph\ndata: \{/);
  });

  it("does not reach a control plane whose certificate does not chain to the given root", async () => {
    const key = join(dir, "other.key");
    const crt = join(dir, "other.crt");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "1", "-subj", "/CN=other-root"], { stdio: "ignore" });
    let roots = readFileSync(crt, "utf8");
    const other = await DashboardForwarder.start({ target: cp.url, ca: () => roots });
    try {
      const r = await send(other.port, "GET", "/healthz", { host: `127.0.0.1:${other.port}` });
      assert.equal(r.status, 502);
      assert.match(r.body, /CP_UNREACHABLE/);
      assert.match(r.body, /CERT|UNABLE_TO|SELF_SIGNED/);
      // New roots (as after a root rotation) are used from the next request on.
      roots = cp.trustBundle;
      assert.equal((await send(other.port, "GET", "/healthz", { host: `127.0.0.1:${other.port}` })).status, 200);
    } finally {
      await other.close();
    }
  });
});
