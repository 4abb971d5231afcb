// The control plane refuses what it must, checked with curl against a real `amime control-plane`
// process: no credential or a wrong one → 401; a browser's cross-site request (Origin,
// Sec-Fetch-Site) → 403 even with a valid credential (the cross-site text/plain POST that used to be
// applied); a foreign Host (DNS rebinding) → 403; a proxy credential cannot take over another
// node's stream or ACK for it, nor use the admin API; the CLI finds the admin token (0600) on its
// own; every change is recorded with who made it. The API is TLS only: its certificate, issued by
// the mesh CA for the control plane's addresses, verifies with openssl against the root written
// beside the admin token; plaintext and unverified clients get no answer.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { amime } from "../cli/control-plane-cli.ts";
import { BIN, NODE, reviewsTo, SERVICES_YAML } from "./mesh-harness.ts";

interface Curl {
  status: number;
  headers: string;
  body: string;
}

/** The mesh root `amime control-plane` wrote beside its admin token (what curl verifies it with). */
let rootCert = "";

/** curl ARGS URL: status, response headers and body (never throws on HTTP errors). */
function curl(args: string[]): Promise<Curl> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "-D", "-", "--max-time", "10", "--cacert", rootCert, ...args], { encoding: "utf8" }, (err, stdout) => {
      // --max-time on an open stream exits 28 after the headers arrived: that is an answer.
      if (err && (err as { code?: number }).code !== 28) return reject(err);
      const split = stdout.indexOf("\r\n\r\n");
      const headers = split >= 0 ? stdout.slice(0, split) : stdout;
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1] ?? 0);
      resolve({ status, headers, body: split >= 0 ? stdout.slice(split + 4) : "" });
    });
  });
}

/** Run a tool with stdin; exit code, stdout and stderr (never throws on a non-zero exit). */
function run(cmd: string, args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: "utf8", timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    // A tool may exit before it reads its input: its exit status tells the story.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

describe("control plane authentication, CSRF and DNS-rebinding guards", () => {
  let project: string;
  let child: ReturnType<typeof spawn>;
  let stderr = "";
  let url: string;
  let port: number;
  let admin: string;
  const bearer = (t: string): string[] => ["-H", `Authorization: Bearer ${t}`];
  const me = `admin:${userInfo().username}`;

  before(async () => {
    project = mkdtempSync(join(tmpdir(), "amime-auth-"));
    writeFileSync(join(project, "services.yaml"), SERVICES_YAML);
    writeFileSync(join(project, "vs-v2.yaml"), reviewsTo("v2"));
    // No --state-dir: the default is ./.amime, where the CLI looks from this directory.
    child = spawn(NODE, [BIN, "control-plane", "-f", join(project, "services.yaml"), "--port", "0"], { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf("\n");
        if (nl >= 0) resolve(out.slice(0, nl));
      });
      child.on("exit", (c) => reject(new Error(`control plane exited ${c}: ${stderr}`)));
    });
    const ready = JSON.parse(line) as { url: string; port: number; tokenFile: string; rootCertFile: string };
    url = ready.url;
    port = ready.port;
    assert.equal(ready.tokenFile, join(project, ".amime", "admin-token"));
    assert.equal(ready.rootCertFile, join(project, ".amime", "root-cert.pem"));
    rootCert = ready.rootCertFile;
    admin = readFileSync(ready.tokenFile, "utf8").trim();
  });

  after(() => {
    child.kill("SIGKILL");
    rmSync(project, { recursive: true, force: true });
  });

  it("writes the admin token with mode 0600 and the CLI finds it from the project directory", async () => {
    assert.equal(statSync(join(project, ".amime", "admin-token")).mode & 0o777, 0o600);
    assert.equal(statSync(join(project, ".amime", "token-key")).mode & 0o777, 0o600);
    const r = await amime(["get", "svc", "-o", "name", "--control-plane", url], { cwd: project });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "service/reviews\n");
  });

  it("no credential or a wrong one: 401 with a Bearer challenge", async () => {
    const none = await curl([`${url}/api/v1/status`]);
    assert.equal(none.status, 401);
    assert.match(none.headers, /^www-authenticate: Bearer realm="amime"/im);
    assert.match(none.body, /"code":"CP_UNAUTHENTICATED"/);
    const forged = await curl([...bearer(`${admin.slice(0, -4)}AAAA`), `${url}/api/v1/status`]);
    assert.equal(forged.status, 401);
    const post = await curl(["-X", "POST", "-H", "Content-Type: text/plain", "--data-binary", `@${join(project, "vs-v2.yaml")}`, `${url}/api/v1/apply`]);
    assert.equal(post.status, 401);
    assert.equal((await curl(["-X", "PUT", "--data", "{}", `${url}/api/v1/instances/default/x`])).status, 401);
    assert.equal((await curl([`${url}/xds/v1/stream?node=sidecar~x.default`])).status, 401);
    // Health stays open for probes.
    assert.equal((await curl([`${url}/healthz`])).status, 200);
  });

  it("a cross-site request is refused (403) even with a valid credential, and changes nothing", async () => {
    const csrf = await curl(["-X", "POST", ...bearer(admin), "-H", "Content-Type: text/plain", "-H", "Origin: http://evil.example", "--data-binary", `@${join(project, "vs-v2.yaml")}`, `${url}/api/v1/apply`]);
    assert.equal(csrf.status, 403);
    assert.match(csrf.body, /"code":"CP_CROSS_SITE"/);
    const fetchMeta = await curl(["-X", "POST", ...bearer(admin), "-H", "Sec-Fetch-Site: cross-site", "--data-binary", `@${join(project, "vs-v2.yaml")}`, `${url}/api/v1/apply`]);
    assert.equal(fetchMeta.status, 403);
    const list = await curl([...bearer(admin), `${url}/api/v1/resources?kind=VirtualService`]);
    assert.equal(list.status, 200);
    assert.deepEqual(JSON.parse(list.body), { items: [] });
    // Our own origin (a page the control plane itself served) is not cross-site.
    assert.equal((await curl([...bearer(admin), "-H", `Origin: https://127.0.0.1:${port}`, `${url}/api/v1/status`])).status, 200);
  });

  it("TLS only: the certificate is the mesh CA's for the control plane's addresses; plaintext and unverified clients get no answer", async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    // openssl: the served chain verifies against the root beside the admin token, for 127.0.0.1 and localhost.
    const served = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-showcerts", "-verify_return_error", "-CAfile", rootCert, "-verify_ip", "127.0.0.1"], "");
    assert.match(served.stdout, /Verify return code: 0 \(ok\)/, served.stdout + served.stderr);
    const leaf = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(served.stdout)?.[0] ?? "";
    const text = (await run("openssl", ["x509", "-noout", "-text"], leaf)).stdout;
    assert.match(text, /DNS:localhost/);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.equal((await curl([...bearer(admin), `https://localhost:${port}/api/v1/status`])).status, 200, "localhost is in the certificate");
    // Plaintext HTTP to the same port: no HTTP answer, nothing applied.
    const plain = await run("curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", ...bearer(admin), "-X", "POST", "--data-binary", `@${join(project, "vs-v2.yaml")}`, `http://127.0.0.1:${port}/api/v1/apply`], "");
    assert.notEqual(plain.code, 0);
    assert.equal(plain.stdout, "000");
    // Without the mesh root the certificate does not verify (curl exit 60).
    const unverified = await run("curl", ["-sS", "--max-time", "5", ...bearer(admin), `${url}/api/v1/status`], "");
    assert.equal(unverified.code, 60, unverified.stderr);
    assert.deepEqual(JSON.parse((await curl([...bearer(admin), `${url}/api/v1/resources?kind=VirtualService`])).body), { items: [] });
  });

  it("a foreign Host (DNS rebinding) is refused; the control plane's own names are not", async () => {
    const rebound = await curl([...bearer(admin), "-H", `Host: evil.example:${port}`, `${url}/api/v1/status`]);
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /"code":"CP_FOREIGN_HOST"/);
    assert.equal((await curl([...bearer(admin), "-H", "Host: 127.0.0.1:1", `${url}/api/v1/status`])).status, 403, "another port");
    assert.equal((await curl(["-H", `Host: evil.example:${port}`, `${url}/healthz`])).status, 403, "health too");
    assert.equal((await curl([...bearer(admin), "-H", `Host: localhost:${port}`, `${url}/api/v1/status`])).status, 200);
  });

  it("a proxy credential subscribes and ACKs only as its own node and cannot use the admin API", async () => {
    const mint = async (node: string): Promise<string> => {
      const r = await curl(["-X", "POST", ...bearer(admin), "--data", JSON.stringify({ node, namespace: "default", serviceAccount: "reviews" }), `${url}/api/v1/credentials`]);
      assert.equal(r.status, 200, r.body);
      return (JSON.parse(r.body) as { token: string }).token;
    };
    const a = await mint("sidecar~reviews-v1-0.default");
    const own = await curl(["-N", "--max-time", "1", ...bearer(a), `${url}/xds/v1/stream?node=${encodeURIComponent("sidecar~reviews-v1-0.default")}`]);
    assert.equal(own.status, 200);
    assert.match(own.headers, /content-type: application\/x-ndjson/i);

    const takeover = await curl([...bearer(a), `${url}/xds/v1/stream?node=${encodeURIComponent("sidecar~productpage-v1-0.default")}`]);
    assert.equal(takeover.status, 403);
    assert.match(takeover.body, /may not act as node .*productpage.*belongs to sidecar~reviews-v1-0\.default/);
    const ack = await curl(["-X", "POST", ...bearer(a), "--data", JSON.stringify({ node: "sidecar~productpage-v1-0.default", version: "v1", nonce: "n", accepted: false }), `${url}/xds/v1/ack`]);
    assert.equal(ack.status, 403);
    assert.equal((await curl([...bearer(admin), `${url}/xds/v1/stream?node=sidecar~reviews-v1-0.default`])).status, 403, "not with the admin's credential either");
    assert.equal((await curl([...bearer(a), `${url}/api/v1/status`])).status, 403);
    assert.equal((await curl(["-X", "POST", ...bearer(a), "--data-binary", `@${join(project, "vs-v2.yaml")}`, `${url}/api/v1/apply`])).status, 403);

    // A newer credential for the node (its process restarted) supersedes the older one.
    await mint("sidecar~reviews-v1-0.default");
    assert.equal((await curl([...bearer(a), `${url}/xds/v1/stream?node=sidecar~reviews-v1-0.default`])).status, 401);
  });

  it("records who made each change: annotations in get -o yaml, and a log line", async () => {
    const r = await amime(["apply", "-f", join(project, "vs-v2.yaml"), "--control-plane", url], { cwd: project });
    assert.equal(r.code, 0, r.stderr);
    const got = await amime(["get", "vs", "reviews", "-o", "yaml", "--control-plane", url], { cwd: project });
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, new RegExp(`amime\\.io/changed-by: ${me.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n`));
    assert.match(got.stdout, /amime\.io\/changed-at: "?\d{4}-\d\d-\d\dT/);
    assert.match(stderr, new RegExp(`apply by ${me}.*VirtualService default/reviews created`));
  });
});
