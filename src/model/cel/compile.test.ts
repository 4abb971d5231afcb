import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ATTR, type CelAttributes } from "./attributes.ts";
import { celProblem, celText, compileCel } from "./compile.ts";
import { CelError, parseCel } from "./parse.ts";

/** A request as the proxy would show it: GET reviews:9080/reviews/1?x=1 answered 503, header x-user: jason. */
function attrs(over: Partial<Record<number, string | number | boolean>> = {}, headers: Record<string, string> = { "x-user": "jason" }): CelAttributes {
  const base: Record<number, string | number | boolean> = {
    [ATTR.requestHost]: "reviews:9080",
    [ATTR.requestMethod]: "GET",
    [ATTR.requestPath]: "/reviews/1?x=1",
    [ATTR.requestUrlPath]: "/reviews/1",
    [ATTR.responseCode]: 503,
    [ATTR.sourceWorkload]: "productpage-v1",
    [ATTR.mtls]: true,
    ...over,
  };
  return { get: (id) => base[id], header: (n) => headers[n] };
}

const run = (expr: string, a = attrs()): unknown => compileCel(expr).eval(a);

describe("CEL subset", () => {
  it("evaluates Istio's expressions (table)", () => {
    const table: [string, unknown][] = [
      ["response.code >= 400", true],
      ["response.code == 200", false],
      ["response.code >= 500 && request.method == 'GET'", true],
      ["response.code < 500 || request.headers['x-user'] == \"jason\"", true],
      ["!(response.code >= 500)", false],
      ["request.url_path.startsWith('/reviews')", true],
      ["request.host.endsWith(':9080') && !request.path.contains('debug')", true],
      ["request.headers['X-User']", "jason"],
      ["request.headers['x-missing'] || 'none'", "none"],
      ["request.headers['x-user'] || 'none'", "jason"],
      ["string(response.code)", "503"],
      ["'literal'", "literal"],
      ["'v-' + request.method + '-' + string(response.code + 1)", "v-GET-504"],
      ["source.workload.name", "productpage-v1"],
      ["connection.mtls == true", true],
      ["request.headers['x-missing'] == 'a'", undefined],
      ["request.headers['x-missing'] == 'a' || response.code == 503", true],
      ["request.headers['x-missing'] == 'a' && response.code == 200", false],
      ["request.headers['x-missing'] == 'a' && response.code == 503", undefined],
    ];
    for (const [expr, want] of table) assert.equal(run(expr), want, expr);
  });

  it("knows which expressions vary per request", () => {
    assert.equal(compileCel("request.headers['x'] || 'a'").perRequest, true);
    assert.equal(compileCel("string(response.code) || 'x'").perRequest, false);
    assert.equal(compileCel("source.workload.name").perRequest, false);
  });

  it("refuses what it cannot evaluate, naming the column", () => {
    const table: [string, RegExp][] = [
      ["", /empty/],
      ["response.code >= ", /unexpected end of expression \(column 18\)/],
      ["request.headers['x'", /expected "\]"/],
      ["response.code == '200'", /== compares a int with a string \(column 15\)/],
      ["request.hots == 'a'", /unknown attribute request.hots.*\(column 1\)/],
      ["size(request.path) > 3", /unsupported function size\(\)/],
      ["request.headers[0]", /map key must be a string literal/],
      ["response.code >= 400 || 'x'", /both sides must be booleans/],
      ["1 < response.code < 3", /chained comparisons/],
      ["request.method + 1", /\+ joins two strings or two integers/],
      ["response.duration > duration('1s')", /unsupported function duration\(\)/],
      ["request.path.matches('^/a')", /unsupported member "matches"/],
      ["response.code >= 4.5", /only integer numbers/],
      ["filter_state['x']", /unknown map attribute filter_state/],
    ];
    for (const [expr, want] of table) {
      assert.throws(() => compileCel(expr), (e: unknown) => e instanceof CelError && want.test(e.message), expr);
    }
    assert.match(celProblem("request.method", "bool"), /gives a string, a bool is needed/);
    assert.equal(celProblem("request.method == 'GET'", "bool"), "");
  });

  it("renders absent values as Istio's unknown", () => {
    assert.equal(celText(compileCel("request.headers['nope']").eval(attrs())), "unknown");
    assert.equal(celText(200), "200");
  });

  it("never throws anything but CelError on any input (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          parseCel(s);
        } catch (e) {
          if (!(e instanceof CelError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
