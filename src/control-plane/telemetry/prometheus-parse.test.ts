import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePrometheusText, PrometheusParseError } from "./prometheus-parse.ts";

describe("strict Prometheus text parser", () => {
  it("parses families, labels, escapes, special values and timestamps", () => {
    const f = parsePrometheusText(
      '# HELP a_total Some help\n# TYPE a_total counter\na_total{x="1",y="q\\"\\\\\\n"} 3 1700000000000\na_total 4\n# a comment\nb NaN\nc{} +Inf\n',
    );
    assert.equal(f.get("a_total")?.type, "counter");
    assert.equal(f.get("a_total")?.help, "Some help");
    assert.deepEqual(f.get("a_total")?.samples[0], { name: "a_total", labels: { x: "1", y: 'q"\\\n' }, value: 3 });
    assert.ok(Number.isNaN(f.get("b")?.samples[0]?.value));
    assert.equal(f.get("c")?.samples[0]?.value, Infinity);
  });

  it("groups histogram samples and checks them", () => {
    const ok = '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
    assert.equal(parsePrometheusText(ok).get("h")?.samples.length, 4);
    assert.throws(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\n'), /not cumulative/);
    assert.throws(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n'), /no \+Inf/);
    assert.throws(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\n'), /differs from _count/);
  });

  const bad: [string, RegExp][] = [
    ["1abc 1\n", /bad metric name/],
    ['a{1x="1"} 1\n', /bad label name/],
    ["a{x=1} 1\n", /must be quoted/],
    ['a{x="1} 1\n', /unterminated/],
    ['a{x="\\t"} 1\n', /bad escape/],
    ['a{x="1",x="2"} 1\n', /duplicate label/],
    ["a 1\na 2\n", /duplicate series/],
    ["a one\n", /bad value/],
    ["a 1 2 3\n", /expected a value/],
    ["# TYPE a gauge\na 1\n# TYPE a gauge\n", /after its samples/],
    ["# TYPE a wrong\n", /bad type/],
  ];
  for (const [text, re] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parsePrometheusText(text), (e: unknown) => e instanceof PrometheusParseError && re.test(e.message));
    });
  }
});
