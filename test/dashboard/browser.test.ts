// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against the
// bookinfo demo under load: the graph shows productpage → reviews v1/v2/v3 → ratings with rates;
// Istio's 90/10 split moves the reviews edges; an injected abort turns the caller's edge to
// ratings red; a trace opens as a waterfall with productpage, details, reviews and ratings.
// Screenshots of each step go to .artifacts/dashboard/ (gitignored; CI keeps them).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { AMIME, get, NODE, postYaml, randomPortBase, ROOT, sleep, UpRun } from "../e2e/up-harness.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, ".artifacts", "dashboard");
const NETWORKING = join(ROOT, "test", "fixtures", "istio", "samples", "bookinfo", "networking");

const RATINGS_ABORT = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - fault:
      abort: {httpStatus: 500, percentage: {value: 100}}
    route:
    - destination: {host: ratings, subset: v1}
`;

/** `amime dashboard --no-browser` in the run's directory, until it prints its link; it keeps running (the forwarder). */
async function startDashboard(cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(NODE, [AMIME, "dashboard", "--no-browser"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const seen = (): void => {
      const m = /Dashboard: (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    };
    child.stdout?.on("data", seen);
    child.once("exit", (code) => reject(new Error(`amime dashboard exited with ${code}: ${out}`)));
  });
  return { child, url };
}

interface EdgeRow {
  source: string;
  target: string;
  rps: number;
  health: string;
  colour: string;
}

const REVIEWS = "service:reviews.default.svc.cluster.local";
const RATINGS = "service:ratings.default.svc.cluster.local";

describe("dashboard in Chromium", { skip: !existsSync(CHROMIUM) && "no /usr/bin/chromium", timeout: 240_000 }, () => {
  let run: UpRun;
  let state: UpState;
  let browser: Browser;
  let page: Page;
  let loading = true;
  let load: Promise<void> = Promise.resolve();
  let step = 0;
  let dashboard: ChildProcess | undefined;
  let upLink = "";
  const cspViolations: string[] = [];
  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(ARTIFACTS, `${String(++step).padStart(2, "0")}-${name}.png`), fullPage: true });
  };
  const edges = (): Promise<EdgeRow[]> =>
    page.$$eval("#edges tbody tr", (rows) => rows.map((r) => {
      const d = (r as HTMLElement).dataset;
      return { source: d.source ?? "", target: d.target ?? "", rps: Number(d.rps), health: d.health ?? "", colour: d.colour ?? "" };
    }));
  /** Wait until the edge table satisfies `ok` (re-read on every graph event); returns the rows. */
  const until = async (what: string, ok: (rows: EdgeRow[]) => boolean, timeoutMs: number): Promise<EdgeRow[]> => {
    const deadline = Date.now() + timeoutMs;
    let rows: EdgeRow[] = [];
    for (;;) {
      rows = await edges();
      if (ok(rows)) return rows;
      if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms; edges: ${JSON.stringify(rows)}`);
      // The table is redrawn on each server-sent graph event (every 2 s): wait for the next one.
      await page.waitForFunction((before) => document.querySelector("#status")?.textContent !== before, await page.textContent("#status"), { timeout: 10_000, polling: 200 });
    }
  };
  const apply = async (yaml: string): Promise<void> => {
    const r = await postYaml(`${state.controlPlane}/api/v1/apply`, yaml, run.auth());
    assert.equal(r.status, 200, r.body);
  };

  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    run = new UpRun(["-f", join(ROOT, "samples", "bookinfo"), "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted(60_000);
    // Load: two clients in a loop through the ingress, about 20 requests per second in all.
    const client = async (): Promise<void> => {
      while (loading) {
        await get(`${state.ingress}/productpage`).catch(() => undefined);
        await sleep(100);
      }
    };
    load = Promise.all([client(), client()]).then(() => undefined);
    // No certificate import and no certificate flags: the browser reaches the dashboard through
    // the plain-http loopback forwarder (`amime dashboard`, `amime up`), as a user does.
    upLink = /Dashboard: +(\S+)/.exec(run.output)?.[1] ?? "";
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("console", (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  });
  after(async () => {
    loading = false;
    await load;
    await browser?.close();
    dashboard?.kill("SIGINT");
    await run?.cleanup();
  });

  it("signs in with the link `amime dashboard` prints, over its loopback forwarder", async () => {
    const started = await startDashboard(run.cwd);
    dashboard = started.child;
    const url = new URL(started.url);
    assert.equal(url.protocol, "http:");
    assert.equal(url.hostname, "127.0.0.1");
    assert.notEqual(url.port, new URL(state.controlPlane).port);
    assert.equal(url.pathname, "/dashboard/login");
    const answer = await page.goto(started.url);
    assert.equal(answer?.ok(), true);
    assert.equal(page.url(), `${url.origin}/dashboard/`);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "amime_session");
    assert.equal(session?.httpOnly, true);
    assert.equal(session?.secure, false, "plain http on loopback: a Secure cookie would not be kept");
    assert.equal(session?.sameSite, "Strict");
    assert.equal(await page.evaluate(() => document.cookie), "", "the page's scripts cannot read the session");
    // The page's own POSTs (Origin: http://127.0.0.1:PORT) pass the forwarder and the control plane.
    const explain = await page.evaluate(async () => (await fetch("/dashboard/api/explain", { method: "POST", body: "{}" })).status);
    assert.equal(explain, 400, "reached the handler (400: no node), not refused as cross-site (403)");
  });

  it("`amime up` printed a working sign-in link on its own forwarder", async () => {
    assert.match(upLink, /^http:\/\/127\.0\.0\.1:\d+\/dashboard\/login\?code=/, run.output);
    const fresh = await browser.newContext();
    try {
      const other = await fresh.newPage();
      await other.goto(upLink);
      assert.equal(new URL(other.url()).pathname, "/dashboard/");
      await other.waitForFunction(() => document.getElementById("status")?.textContent !== "connecting…", undefined, { timeout: 20_000 });
    } finally {
      await fresh.close();
    }
  });

  it("shows productpage → reviews v1/v2/v3 → ratings with non-zero rates", async () => {
    await page.evaluate(() => (location.hash = "#/graph?window=30s"));
    const has = (rows: EdgeRow[], s: string, t: string): boolean => rows.some((r) => r.source === s && r.target === t && r.rps > 0);
    await until("bookinfo's edges with traffic", (rows) =>
      has(rows, "version:default/productpage/v1", REVIEWS) &&
      ["v1", "v2", "v3"].every((v) => has(rows, REVIEWS, `version:default/reviews/${v}`)) &&
      has(rows, "version:default/reviews/v2", RATINGS) && has(rows, "version:default/reviews/v3", RATINGS) &&
      has(rows, RATINGS, "version:default/ratings/v1"), 60_000);
    // The graph itself holds the same nodes, versions boxed in their app.
    const parents = await page.evaluate(() => (window as unknown as { __amime: { cy: { nodes(s: string): { map(f: (n: { data(k: string): string }) => string): string[] } } } }).__amime.cy.nodes("[kind = 'version']").map((n) => `${n.data("id")}<${n.data("parent")}`));
    for (const v of ["v1", "v2", "v3"]) assert.ok(parents.includes(`version:default/reviews/${v}<app:default/reviews`), parents.join());
    await sleep(500); // let the traffic dots move for the picture
    await shot("graph-bookinfo");
  });

  it("applying the 90/10 split moves the reviews edge rates", async () => {
    await apply(readFileSync(join(NETWORKING, "virtual-service-reviews-90-10.yaml"), "utf8"));
    const rate = (rows: EdgeRow[], v: string): number => rows.find((r) => r.source === REVIEWS && r.target === `version:default/reviews/${v}`)?.rps ?? 0;
    const rows = await until("v3 drained and v1 carrying most of reviews", (rs) => rate(rs, "v3") === 0 && rate(rs, "v1") > 3 * rate(rs, "v2") && rate(rs, "v2") > 0, 90_000);
    assert.ok(rate(rows, "v1") > 0);
    await shot("graph-90-10");
  });

  it("opens a trace whose waterfall spans productpage, details, reviews and ratings", async () => {
    await page.evaluate(() => (location.hash = "#/traces?service=ratings.default&lookback=15m"));
    await page.waitForSelector("#traces tbody tr", { timeout: 20_000 });
    // A trace whose spans have all arrived (each sidecar reports its own, in batches): the
    // ingress, productpage, details, reviews and ratings — five services.
    const complete = await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLElement>("#traces tbody tr")).findIndex((r) => Number(r.dataset.services) >= 5) + 1, undefined, { timeout: 20_000 });
    await page.click(`#traces tbody tr:nth-child(${String(await complete.jsonValue())}) a`);
    await page.waitForSelector("#waterfall .row", { timeout: 20_000 });
    const services = (await page.getAttribute("#waterfall", "data-services"))?.split(",") ?? [];
    for (const s of ["productpage.default", "details.default", "reviews.default", "ratings.default"]) assert.ok(services.includes(s), services.join());
    const rows = await page.$$eval("#waterfall .row", (rs) => rs.map((r) => (r as HTMLElement).dataset.service));
    assert.ok(rows.length >= 4, String(rows.length));
    await shot("trace-waterfall");
  });

  it("an injected abort turns the caller's edge to ratings the error colour", async () => {
    await apply(RATINGS_ABORT);
    await page.evaluate(() => (location.hash = "#/graph?window=30s"));
    const rows = await until("reviews v2 → ratings failing", (rs) => rs.some((r) => r.source === "version:default/reviews/v2" && r.target === RATINGS && r.health === "failing"), 60_000);
    const edge = rows.find((r) => r.source === "version:default/reviews/v2" && r.target === RATINGS);
    assert.equal(edge?.colour, "#c9190b");
    const lineColour = await page.evaluate(() => (window as unknown as { __amime: { cy: { edges(s: string): { style(k: string): string }[] } } }).__amime.cy.edges(`[source = "version:default/reviews/v2"][target = "service:ratings.default.svc.cluster.local"]`)[0]?.style("line-color"));
    assert.equal(lineColour, "rgb(201,25,11)");
    await shot("graph-fault");
    // A slow edge links to the traces at or above its p95.
    const slow = await page.getAttribute(`#edges tr[data-source="version:default/productpage/v1"][data-target="${REVIEWS}"] a.slow`, "href");
    assert.match(slow ?? "", /^#\/traces\?service=reviews\.default&minDuration=\d+$/);
  });

  it("the reviews page charts its versions and lists the config that applies", async () => {
    await page.evaluate(() => (location.hash = "#/detail?service=reviews.default.svc.cluster.local&window=1m"));
    await page.waitForSelector('#instances tbody tr', { timeout: 20_000 });
    assert.equal(await page.locator("#instances tbody tr").count(), 3);
    const series = await page.getAttribute('[data-chart="Inbound by version"]', "data-series");
    assert.ok(series?.split(",").includes("v1"), series ?? "");
    const applied = await page.locator("#applied").innerText();
    assert.match(applied, /VirtualService default\/reviews/);
    assert.match(applied, /DestinationRule default\/reviews/);
    await shot("detail-reviews");
    // A chart point opens the traces of that moment.
    await page.click('[data-chart="Inbound by version"] .u-over', { position: { x: 300, y: 60 } });
    await page.waitForSelector("#trace-moment", { timeout: 10_000 });
    const hash = new URLSearchParams((await page.evaluate(() => location.hash)).split("?")[1]);
    assert.equal(hash.get("service"), "reviews.default");
    assert.ok(Number(hash.get("end")) > 0 && Number(hash.get("span")) > 0, hash.toString());
    await page.waitForSelector("#traces tbody tr", { timeout: 20_000 });
  });

  it("ran every view under the page's Content-Security-Policy without a violation", () => {
    assert.deepEqual(cspViolations, []);
  });
});
