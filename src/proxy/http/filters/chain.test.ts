import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTINUE, STOP, type FilterSlot, type HttpFilter, type RequestContext } from "../../request/context.ts";
import { forward, route, routeConfig, vhost } from "../../router/fixtures.ts";
import { resumeChain, runChain } from "./chain.ts";
import { FakeRequest } from "../../../testing/fake-request.ts";

function recorder(name: string, log: string[], result: 0 | 1 = CONTINUE): HttpFilter {
  return {
    name,
    onRequest(_x: RequestContext, config: unknown) {
      log.push(`${name}:${String(config)}`);
      return result;
    },
  };
}

const slot = (filter: HttpFilter, config?: unknown): FilterSlot => ({ filter, config });

describe("the HTTP filter chain", () => {
  it("runs the filters in order until one stops", () => {
    const log: string[] = [];
    const x = new FakeRequest();
    runChain(x, [slot(recorder("a", log), 1), slot(recorder("b", log, STOP), 2), slot(recorder("c", log), 3)]);
    assert.deepEqual(log, ["a:1", "b:2"]);
  });

  it("a suspended request resumes at the filter after the one that stopped", () => {
    const log: string[] = [];
    const x = new FakeRequest();
    runChain(x, [slot(recorder("a", log, STOP)), slot(recorder("b", log, STOP)), slot(recorder("c", log))]);
    resumeChain(x);
    assert.deepEqual(log, ["a:undefined", "b:undefined"]);
  });

  it("stops running filters once the request is answered", () => {
    const log: string[] = [];
    const answer: HttpFilter = { name: "answer", onRequest: (x) => (x.reply(403, 0, "no"), CONTINUE) };
    const x = new FakeRequest();
    runChain(x, [slot(answer), slot(recorder("after", log))]);
    assert.deepEqual(log, []);
    assert.equal(x.replies.length, 1);
  });

  it("a throwing filter costs its request a 500, counted, never the caller", () => {
    const x = new FakeRequest();
    const boom: HttpFilter = {
      name: "boom",
      onRequest() {
        throw new Error("bug");
      },
    };
    runChain(x, [slot(boom)]);
    assert.equal(x.replies[0]?.status, 500);
    assert.equal((x.proxy.downstream as unknown as { downstream_rq_internal_error: number }).downstream_rq_internal_error, 1);
  });

  it("a route's per-filter config overrides the listener's for that filter only", () => {
    const log: string[] = [];
    const r = { ...route("r", {}, forward(["c"])), filterConfig: { a: "route-a" } };
    const x = new FakeRequest({ routes: routeConfig([vhost("v", ["*"], [r])]) });
    x.route = r;
    runChain(x, [slot(recorder("a", log), "listener-a"), slot(recorder("b", log), "listener-b")]);
    assert.deepEqual(log, ["a:route-a", "b:listener-b"]);
  });
});
