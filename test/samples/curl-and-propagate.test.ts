// The curl client stays up until SIGTERM; propagate() copies exactly the listed headers.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { PROPAGATED_HEADERS, propagate } from "../../samples/lib/propagate.ts";
import { cleanEnv, NODE, REPO } from "./sample-process.ts";

test("samples/curl/curl.ts stays alive and exits 0 on SIGTERM", async () => {
  const child = spawn(NODE, [`${REPO}samples/curl/curl.ts`], { env: cleanEnv({}), stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  while (!out.includes("ready")) await once(child.stdout, "data");
  assert.equal(child.exitCode, null, "still running after it said ready");
  const exited = once(child, "close"); // after its stdout is read to the end
  child.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
  // Its own SIGTERM handler answered: it was alive and waiting when the signal came.
  assert.match(out, /curl: SIGTERM, exiting/);
});

test("propagate copies the trace, B3, end-user and auth headers and nothing else", () => {
  const copied = {
    "x-request-id": "r",
    traceparent: "00-a-b-01",
    b3: "a-b-1",
    "x-b3-traceid": "a",
    "end-user": "jason",
    cookie: "session=jason",
    authorization: "Bearer t",
  };
  const hopLocal = { host: "productpage:9080", "content-length": "0", "x-forwarded-for": "10.0.0.1" };
  assert.deepEqual(propagate({ ...copied, ...hopLocal }), copied);
  for (const h of ["x-request-id", "traceparent", "tracestate", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "b3", "x-ot-span-context"]) {
    assert.ok((PROPAGATED_HEADERS as readonly string[]).includes(h), h);
  }
});
