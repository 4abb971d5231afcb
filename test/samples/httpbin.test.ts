// The httpbin sample as a real process: go-httpbin's JSON shapes for the endpoints Istio's tasks use.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { getJson, request, startSample, type SampleProcess } from "./sample-process.ts";

let httpbin: SampleProcess;
before(async () => {
  httpbin = await startSample("samples/httpbin/httpbin.ts");
});
after(async () => {
  assert.equal(await httpbin.stop(), 0);
});

test("/get echoes args, canonical headers, origin and url", async () => {
  const r = await getJson(`${httpbin.url}/get?a=1&a=2&b=x`, { "x-request-id": "abc", "x-b3-sampled": "1" });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.args, { a: ["1", "2"], b: ["x"] });
  assert.deepEqual(r.json.headers["X-Request-Id"], ["abc"]);
  assert.deepEqual(r.json.headers["X-B3-Sampled"], ["1"]);
  assert.deepEqual(r.json.headers.Host, [`127.0.0.1:${httpbin.port}`]);
  assert.equal(r.json.origin, "127.0.0.1");
  assert.equal(r.json.url, `http://127.0.0.1:${httpbin.port}/get?a=1&a=2&b=x`);
  assert.equal((await request(`${httpbin.url}/get`, { method: "POST", body: "x" })).status, 405);
});

test("/headers, /ip, /uuid, /user-agent, /html, /health", async () => {
  assert.deepEqual((await getJson(`${httpbin.url}/headers`, { "end-user": "jason" })).json.headers["End-User"], ["jason"]);
  assert.equal((await getJson(`${httpbin.url}/ip`, { "x-forwarded-for": "10.1.2.3, 10.0.0.1" })).json.origin, "10.1.2.3");
  const a = (await getJson(`${httpbin.url}/uuid`)).json.uuid;
  const b = (await getJson(`${httpbin.url}/uuid`)).json.uuid;
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, b);
  assert.deepEqual((await getJson(`${httpbin.url}/user-agent`, { "user-agent": "curl/8" })).json, { "user-agent": "curl/8" });
  assert.match((await request(`${httpbin.url}/html`)).body, /Moby-Dick/);
  assert.equal((await request(`${httpbin.url}/health`)).status, 200);
});

test("/status/<code>", async () => {
  for (const code of [200, 204, 404, 418, 500, 503]) assert.equal((await request(`${httpbin.url}/status/${code}`)).status, code);
  const moved = await request(`${httpbin.url}/status/302`);
  assert.equal(moved.status, 302);
  assert.equal(moved.headers.location, "/redirect/1");
  for (const bad of ["99", "600", "abc", "200,500"]) assert.equal((await request(`${httpbin.url}/status/${bad}`)).status, 400, bad);
});

test("/delay/<s> waits, and refuses more than 10 s", async () => {
  const started = performance.now();
  const r = await getJson(`${httpbin.url}/delay/0.3`);
  assert.equal(r.status, 200);
  assert.ok(performance.now() - started >= 280);
  assert.equal(r.json.url, `http://127.0.0.1:${httpbin.port}/delay/0.3`);
  assert.equal((await request(`${httpbin.url}/delay/11`)).status, 400);
  assert.equal((await request(`${httpbin.url}/delay/-1`)).status, 400);
});

test("/anything and /post echo the body: JSON, form and text", async () => {
  const j = await request(`${httpbin.url}/anything/deep/path?q=1`, { method: "PUT", headers: { "content-type": "application/json" }, body: '{"a":1}' });
  const jb = JSON.parse(j.body);
  assert.equal(jb.method, "PUT");
  assert.deepEqual(jb.json, { a: 1 });
  assert.equal(jb.data, '{"a":1}');
  assert.deepEqual(jb.args, { q: ["1"] });
  const f = JSON.parse((await request(`${httpbin.url}/post`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "x=1&x=2&y=z" })).body);
  assert.deepEqual(f.form, { x: ["1", "2"], y: ["z"] });
  assert.equal(f.json, null);
  assert.equal((await request(`${httpbin.url}/post`)).status, 405);
});

test("/response-headers sets the query's headers", async () => {
  const r = await request(`${httpbin.url}/response-headers?X-Custom=one&X-Custom=two&server=httpbin`);
  assert.equal(r.status, 200);
  assert.equal(r.headers["x-custom"], "one, two");
  assert.equal(r.headers.server, "httpbin");
  assert.deepEqual(JSON.parse(r.body)["X-Custom"], ["one", "two"]);
  assert.equal((await request(`${httpbin.url}/response-headers?bad%20name=x`)).status, 400);
});

test("/bytes/<n> and /stream/<n>", async () => {
  const b = await request(`${httpbin.url}/bytes/64`);
  assert.equal(b.headers["content-length"], "64");
  assert.equal(b.headers["content-type"], "application/octet-stream");
  assert.equal((await request(`${httpbin.url}/bytes/200000`)).status, 400);
  const lines = (await request(`${httpbin.url}/stream/3`)).body.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.id), [0, 1, 2]);
  assert.equal((await request(`${httpbin.url}/stream/101`)).status, 400);
});

test("unknown paths are 404 and each request is logged", async () => {
  assert.equal((await request(`${httpbin.url}/nope`)).status, 404);
  await httpbin.waitForOutput(/httpbin GET \/nope 404 /);
});
