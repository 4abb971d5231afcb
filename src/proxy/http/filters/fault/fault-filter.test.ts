import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FaultPolicy } from "../../../../model/proxy-config.ts";
import { FakeClock } from "../../../../testing/fake-clock.ts";
import { CONTINUE, STOP, type HttpFilter } from "../../../request/context.ts";
import { forward, route } from "../../../router/fixtures.ts";
import { RF_DI, RF_FI } from "../../../request/response-flags.ts";
import { runChain } from "../chain.ts";
import { FakeRequest } from "../../../../testing/fake-request.ts";
import { faultFilter } from "./fault-filter.ts";

function faulted(fault: FaultPolicy, clock?: FakeClock): FakeRequest {
  const x = new FakeRequest(clock === undefined ? {} : { clock });
  x.route = route("r", {}, forward(["c"], { fault }));
  return x;
}

describe("fault filter", () => {
  it("aborts with the HTTP status and flag FI (Envoy's body text)", () => {
    const x = faulted({ abort: { httpStatus: 503, percentage: 100 } });
    assert.equal(faultFilter.onRequest(x, undefined), STOP);
    assert.deepEqual(x.replies[0], { status: 503, flags: RF_FI, body: "fault filter abort", headers: undefined, grpcStatus: undefined });
    assert.equal(x.cluster, "c", "counted against the route's cluster, as Envoy (its metrics name the destination service)");
  });

  it("a gRPC abort answers HTTP 200 with the numeric grpc-status", () => {
    const x = faulted({ abort: { grpcStatus: "UNAVAILABLE", percentage: 100 } });
    assert.equal(faultFilter.onRequest(x, undefined), STOP);
    assert.equal(x.replies[0]?.status, 200);
    assert.equal(x.replies[0]?.grpcStatus, 14);
  });

  it("a route without a fault, or an abort at 0 %, lets the request through", () => {
    const plain = new FakeRequest();
    plain.route = route("r", {}, forward(["c"]));
    assert.equal(faultFilter.onRequest(plain, undefined), CONTINUE);
    const x = faulted({ abort: { httpStatus: 500, percentage: 0 } });
    assert.equal(faultFilter.onRequest(x, undefined), CONTINUE);
    assert.equal(x.replies.length, 0);
  });

  it("a delay suspends the request (flag DI) and resumes the chain when it is over", () => {
    const clock = new FakeClock();
    const x = faulted({ delay: { fixedDelayMs: 5000, percentage: 100 } }, clock);
    let reached = 0;
    const next: HttpFilter = { name: "next", onRequest: () => (reached++, STOP) };
    runChain(x, [{ filter: faultFilter, config: undefined }, { filter: next, config: undefined }]);
    assert.equal(x.flags & RF_DI, RF_DI);
    assert.equal(reached, 0);
    clock.advance(4999);
    assert.equal(reached, 0);
    clock.advance(1);
    assert.equal(reached, 1);
  });

  it("a delay then an abort: the abort is answered after the delay", () => {
    const clock = new FakeClock();
    const x = faulted({ delay: { fixedDelayMs: 100, percentage: 100 }, abort: { httpStatus: 429, percentage: 100 } }, clock);
    assert.equal(faultFilter.onRequest(x, undefined), STOP);
    assert.equal(x.replies.length, 0);
    clock.advance(100);
    assert.equal(x.replies[0]?.status, 429);
    assert.equal(x.flags, RF_DI | RF_FI);
  });
});
