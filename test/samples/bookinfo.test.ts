// Bookinfo apps as real processes, wired to each other (or to stand-ins) by DETAILS_URL etc.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { captureServer, closedPort, getJson, request, startSample, type CaptureServer, type SampleProcess } from "./sample-process.ts";

const APPS = "samples/bookinfo/apps";
const TRACE = {
  "x-request-id": "7d1c6b9e-0f5a-4f1e-9d53-1a2b3c4d5e6f",
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  tracestate: "vendor=abc",
  "x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7",
  "x-b3-spanid": "e457b5a2e4d86bd1",
  "x-b3-parentspanid": "05e3ac9a4f6e3b90",
  "x-b3-sampled": "1",
  b3: "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
};
const REVIEW_STANDIN = { id: "0", podname: "standin", clustername: "null", reviews: [{ reviewer: "Reviewer1", text: "stand-in", rating: { stars: 3, color: "black" } }] };
const DETAILS_STANDIN = { id: 0, type: "paperback", pages: 200, publisher: "PublisherA", language: "English", "ISBN-10": "1234567890", "ISBN-13": "123-1234567890" };

describe("bookinfo apps wired together", () => {
  const procs: SampleProcess[] = [];
  let details: SampleProcess, ratings: SampleProcess, v1: SampleProcess, v2: SampleProcess, v3: SampleProcess, productpage: SampleProcess;

  before(async () => {
    [details, ratings] = await Promise.all([startSample(`${APPS}/details.ts`), startSample(`${APPS}/ratings.ts`)]);
    const reviews = (v: string): Promise<SampleProcess> => startSample(`${APPS}/reviews.ts`, { REVIEWS_VERSION: v, RATINGS_URL: ratings.url });
    [v1, v2, v3] = await Promise.all([reviews("v1"), reviews("v2"), reviews("v3")]);
    productpage = await startSample(`${APPS}/productpage.ts`, { DETAILS_URL: details.url, REVIEWS_URL: v3.url, RATINGS_URL: ratings.url });
    procs.push(details, ratings, v1, v2, v3, productpage);
  });
  after(async () => {
    const codes = await Promise.all(procs.map((p) => p.stop()));
    // SIGTERM is a clean shutdown for every app.
    assert.deepEqual(codes, procs.map(() => 0));
  });

  test("health endpoints answer 200", async () => {
    for (const p of procs) assert.equal((await request(`${p.url}/health`)).status, 200, p.output());
  });

  test("details and ratings return upstream's JSON", async () => {
    const d = await getJson(`${details.url}/details/0`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.json, DETAILS_STANDIN_FULL);
    assert.equal((await request(`${details.url}/details/abc`)).status, 400);
    assert.deepEqual((await getJson(`${ratings.url}/ratings/0`)).json, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  });

  test("reviews v1 has no rating, v2 black stars, v3 red stars", async () => {
    const r1 = (await getJson(`${v1.url}/reviews/0`)).json;
    assert.equal(r1.id, "0");
    assert.equal(r1.reviews.length, 2);
    for (const r of r1.reviews) assert.equal("rating" in r, false);
    const r2 = (await getJson(`${v2.url}/reviews/0`)).json;
    assert.deepEqual(r2.reviews.map((r: { rating: unknown }) => r.rating), [{ stars: 5, color: "black" }, { stars: 4, color: "black" }]);
    const r3 = (await getJson(`${v3.url}/reviews/0`)).json;
    assert.deepEqual(r3.reviews.map((r: { rating: unknown }) => r.rating), [{ stars: 5, color: "red" }, { stars: 4, color: "red" }]);
    assert.equal(typeof r3.podname, "string");
  });

  test("products API", async () => {
    const list = await getJson(`${productpage.url}/api/v1/products`);
    assert.equal(list.json[0].title, "The Comedy of Errors");
    const one = await getJson(`${productpage.url}/api/v1/products/0`);
    assert.equal(one.status, 200);
    assert.equal(one.json.author, "William Shakespeare");
    const reviews = await getJson(`${productpage.url}/api/v1/products/0/reviews`);
    assert.equal(reviews.json.reviews[0].rating.color, "red");
    const r = await getJson(`${productpage.url}/api/v1/products/0/ratings`);
    assert.deepEqual(r.json.ratings, { Reviewer1: 5, Reviewer2: 4 });
  });

  test("productpage HTML shows details, reviews with red stars and the index links there", async () => {
    const page = await request(`${productpage.url}/productpage`);
    assert.equal(page.status, 200);
    assert.match(page.headers["content-type"] ?? "", /text\/html/);
    assert.match(page.body, /The Comedy of Errors/);
    assert.match(page.body, /PublisherA/);
    assert.match(page.body, /123-1234567890/);
    assert.match(page.body, /An extremely entertaining play by Shakespeare/);
    assert.match(page.body, /data-stars="5" style="color: red">★★★★★</);
    assert.match(page.body, /data-stars="4" style="color: red">★★★★☆</);
    assert.match(page.body, /name="username"/, "signed out: the sign-in form is shown");
    assert.match((await request(`${productpage.url}/`)).body, /href="\/productpage/);
  });

  test("login sets the session cookie and the page shows the user; logout clears it", async () => {
    const login = await request(`${productpage.url}/login`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "username=jason&passwd=x" });
    assert.equal(login.status, 302);
    assert.equal(login.headers.location, "/productpage");
    const cookie = String(login.headers["set-cookie"]);
    assert.match(cookie, /^session=jason;/);
    const page = await request(`${productpage.url}/productpage`, { headers: { cookie: cookie.split(";")[0]! } });
    assert.match(page.body, /Signed in as <b>jason<\/b>/);
    const logout = await request(`${productpage.url}/logout`);
    assert.equal(logout.status, 302);
    assert.match(String(logout.headers["set-cookie"]), /^session=;.*Max-Age=0/);
  });

  test("ratings down: reviews v2 answers with the upstream rating error", async () => {
    const down = await startSample(`${APPS}/reviews.ts`, { REVIEWS_VERSION: "v2", RATINGS_URL: `http://127.0.0.1:${await closedPort()}` });
    try {
      const r = await getJson(`${down.url}/reviews/0`);
      assert.equal(r.status, 200);
      for (const rv of r.json.reviews) assert.deepEqual(rv.rating, { error: "Ratings service is currently unavailable" });
    } finally {
      await down.stop();
    }
  });
});

describe("productpage against stand-ins", () => {
  let standin: CaptureServer;
  let productpage: SampleProcess;
  before(async () => {
    standin = await captureServer((r) => (r.url.startsWith("/details/") ? DETAILS_STANDIN : REVIEW_STANDIN));
    productpage = await startSample(`${APPS}/productpage.ts`, { DETAILS_URL: standin.url, REVIEWS_URL: standin.url });
  });
  after(async () => {
    await productpage.stop();
    await standin.close();
  });

  test("a signed-in user reaches reviews as end-user, with the trace headers", async () => {
    standin.requests.length = 0;
    const page = await request(`${productpage.url}/productpage`, { headers: { ...TRACE, cookie: "session=jason", "end-user": "mallory" } });
    assert.equal(page.status, 200);
    const toReviews = standin.requests.find((r) => r.url === "/reviews/0");
    const toDetails = standin.requests.find((r) => r.url === "/details/0");
    assert.ok(toReviews && toDetails, JSON.stringify(standin.requests));
    assert.equal(toReviews.headers["end-user"], "jason", "from the session, not from the caller's header");
    for (const hop of [toReviews, toDetails]) for (const [k, v] of Object.entries(TRACE)) assert.equal(hop.headers[k], v, k);
    assert.equal(toReviews.headers.cookie, "session=jason");
  });

  test("signed out: no end-user header", async () => {
    standin.requests.length = 0;
    await request(`${productpage.url}/productpage`, { headers: { "end-user": "jason" } });
    const toReviews = standin.requests.find((r) => r.url === "/reviews/0");
    assert.ok(toReviews);
    assert.equal(toReviews.headers["end-user"], undefined);
  });
});

describe("reviews propagates headers to ratings", () => {
  test("x-request-id, traceparent, b3 and end-user reach ratings", async () => {
    const ratings = await captureServer(() => ({ id: 0, ratings: { Reviewer1: 1, Reviewer2: 2 } }));
    const reviews = await startSample(`${APPS}/reviews.ts`, { REVIEWS_VERSION: "v3", RATINGS_URL: ratings.url });
    try {
      const r = await getJson(`${reviews.url}/reviews/0`, { ...TRACE, "end-user": "jason" });
      assert.deepEqual(r.json.reviews[0].rating, { stars: 1, color: "red" });
      const hop = ratings.requests[0];
      assert.ok(hop);
      assert.equal(hop.url, "/ratings/0");
      for (const [k, v] of Object.entries({ ...TRACE, "end-user": "jason" })) assert.equal(hop.headers[k], v, k);
    } finally {
      await reviews.stop();
      await ratings.close();
    }
  });
});

describe("productpage when its dependencies fail", () => {
  test("reviews too slow: one retry, then the upstream apology; details down: its apology", async () => {
    const slow = await captureServer(() => "hang");
    const productpage = await startSample(`${APPS}/productpage.ts`, { DETAILS_URL: `http://127.0.0.1:${await closedPort()}`, REVIEWS_URL: slow.url, REQUEST_TIMEOUT_MS: "300" });
    try {
      const started = performance.now();
      const page = await request(`${productpage.url}/productpage`);
      const elapsed = performance.now() - started;
      assert.equal(page.status, 200);
      assert.match(page.body, /Sorry, product reviews are currently unavailable for this book\./);
      assert.match(page.body, /Sorry, product details are currently unavailable for this book\./);
      assert.equal(slow.requests.length, 2, "two attempts at reviews, as upstream");
      assert.ok(elapsed >= 550, `both attempts waited for their deadline (${elapsed.toFixed(0)} ms)`);
      const api = await request(`${productpage.url}/api/v1/products/0`);
      assert.equal(api.status, 500);
      assert.deepEqual(JSON.parse(api.body), { error: "Sorry, product details are currently unavailable for this book." });
    } finally {
      await productpage.stop();
      await slow.close();
    }
  });
});

const DETAILS_STANDIN_FULL = { ...DETAILS_STANDIN, author: "William Shakespeare", year: 1595 };
