// Micro benchmark of issue 13's filters without sockets (not part of the test suite):
//   node_modules/.bin/node bench/authz-filters.ts [--compare DIR]
// ns per request of jwt_authn (demo.jwt, its signature from the per-token cache) + rbac with the
// five AuthorizationPolicies of the amime-authz row + the forwarder's drop-set step (its header
// removal), minus a control loop; 7 rounds, median. `--compare DIR` runs the same in the checkout
// at DIR, interleaved (each checkout in its own process, pinned to CPU 0 when taskset exists).
// Compare within one run only (this VM varies up to 2× with other load).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { benchArgs } from "./lib/args.ts";

const { values } = benchArgs({ options: { compare: { type: "string" }, code: { type: "string" } } });
const here = join(dirname(fileURLToPath(import.meta.url)), "..");

if (values.code === undefined) {
  // Parent: run this checkout (and the compared one) in child processes, alternately.
  const node = join(here, "node_modules", ".bin", "node");
  const dirs = [here, ...(values.compare !== undefined ? [values.compare] : [])];
  for (let run = 0; run < 2; run++) {
    for (const dir of dirs) {
      const r = spawnSync("taskset", ["-c", "0", node, fileURLToPath(import.meta.url), "--code", dir], { encoding: "utf8" });
      process.stdout.write(r.status === 0 ? r.stdout : `${dir}: failed\n${r.stderr}`);
    }
  }
  process.exit(0);
}

const dir = values.code;
const load = (p: string) => import(pathToFileURL(join(dir, p)).href);
// A checkout compared with (--compare) may predate the move of FakeRequest into src/testing/.
const { FakeRequest } = await load("src/testing/fake-request.ts").catch(() => load("src/proxy/http/filters/fake-request.test-support.ts"));
const { jwtAuthnFilter } = await load("src/proxy/http/filters/jwt-authn/jwt-filter.ts");
const { rbacFilter } = await load("src/proxy/http/filters/rbac/rbac-filter.ts");
const { loadJose } = await load("src/proxy/http/filters/jwt-authn/jose-module.ts");
const { unionNames } = await load("src/proxy/request/header-edits.ts");
const { compileHeaderNames } = await load("src/proxy/http1/index.ts");

const samples = join(here, "test", "fixtures", "istio", "security", "tools", "jwt", "samples");
const jwks = readFileSync(join(samples, "jwks.json"), "utf8");
const token = readFileSync(join(samples, "demo.jwt"), "utf8").trim();
const ISS = "testing@secure.istio.io";
// The amime-authz row's config (bench/targets/amime-authz.ts).
const policy = (name: string, action: string, rules: unknown[]): object => ({ name: `ns[default]-policy[${name}]`, namespace: "default", action, dryRun: false, rules });
const rbacConfig = {
  policies: [
    policy("allow-token", "ALLOW", [{ from: [{ source: { requestPrincipals: [`${ISS}/${ISS}`] } }] }]),
    policy("audit-get", "AUDIT", [{ to: [{ operation: { methods: ["GET"] } }] }]),
    policy("deny-admin", "DENY", [{ to: [{ operation: { paths: ["/admin/*"] } }] }]),
    policy("deny-blocked", "DENY", [{ when: [{ key: "request.headers[x-block]", values: ["1"] }] }]),
    policy("deny-range", "DENY", [{ from: [{ source: { ipBlocks: ["10.99.0.0/16"] } }] }]),
  ],
  useRemoteAddress: false,
  trustedHops: 0,
};
const jwtConfig = { providers: [{ issuer: ISS, audiences: [], jwks, timeoutMs: 5000, fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], required: false }] };
const DROP = compileHeaderNames(["x-forwarded-for", "x-envoy-attempt-count"]);
const headers = { authorization: `Bearer ${token}`, "user-agent": "amime-bench" };

await loadJose();
// One request context reused (its per-request fields reset), so its construction is not measured.
const x = new FakeRequest({ headers });
// The first request verifies the signature (asynchronously) and fills the token cache.
jwtAuthnFilter.onRequest(x, jwtConfig);
await new Promise((r) => setTimeout(r, 200));

let sink = 0;
function filters(n: number): void {
  for (let i = 0; i < n; i++) {
    x.metadata = null;
    x.edits = null;
    if (jwtAuthnFilter.onRequest(x, jwtConfig) !== 0 || rbacFilter.onRequest(x, rbacConfig) !== 0) throw new Error("a filter stopped the request");
    sink += unionNames(DROP, x.edits.dropNames()).has("authorization") ? 1 : 0;
  }
}
function control(n: number): void {
  for (let i = 0; i < n; i++) {
    x.metadata = null;
    x.edits = null;
    sink += x.method.length;
  }
}
const N = 500_000;
filters(N);
control(N);
const ns: number[] = [];
for (let r = 0; r < 7; r++) {
  let t = process.cpuUsage();
  filters(N);
  const f = process.cpuUsage(t);
  t = process.cpuUsage();
  control(N);
  const c = process.cpuUsage(t);
  ns.push((((f.user + f.system) - (c.user + c.system)) / N) * 1000);
}
ns.sort((a, b) => a - b);
process.stdout.write(`${dir}: jwt_authn + rbac (5 policies) + drop set: ${ns.map((v) => v.toFixed(0)).join(" ")} ns/request; median ${(ns[3] as number).toFixed(0)}${sink > 0 ? "" : " (?)"}\n`);
