// A strict parser for the Prometheus text exposition format (0.0.4): what the metrics store reads
// from each sidecar's /stats/prometheus, and what the tests use to hold the proxy's output to the
// format. Rejects (with the line number) bad names, bad escapes, duplicate series, a TYPE after
// its samples, and histograms whose buckets are not cumulative or do not end in +Inf = _count.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string;
  samples: Sample[];
}

export class PrometheusParseError extends Error {
  readonly code = "PROMETHEUS_TEXT_INVALID";
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "PrometheusParseError";
    this.line = line;
  }
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f !== undefined && (f.type === "histogram" || f.type === "summary")) return base;
    }
  }
  return name;
}

function parseValue(s: string, line: number): number {
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new PrometheusParseError(line, `bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function parseLabels(text: string, at: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at;
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "}") return { labels, end: i + 1 };
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new PrometheusParseError(line, "label without =");
    const name = text.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new PrometheusParseError(line, `bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new PrometheusParseError(line, `duplicate label ${name}`);
    i = eq + 1;
    if (text[i] !== '"') throw new PrometheusParseError(line, `label ${name}: value must be quoted`);
    i++;
    let v = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new PrometheusParseError(line, `label ${name}: unterminated value`);
      if (c === '"') break;
      if (c === "\\") {
        const n = text[i + 1];
        if (n === "\\") v += "\\";
        else if (n === '"') v += '"';
        else if (n === "n") v += "\n";
        else throw new PrometheusParseError(line, `label ${name}: bad escape \\${n ?? ""}`);
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[name] = v;
    i++;
    while (text[i] === " ") i++;
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (text[i] === "}") return { labels, end: i + 1 };
    throw new PrometheusParseError(line, "expected , or } after a label");
  }
}

function seriesKey(s: Sample): string {
  return s.name + "{" + Object.keys(s.labels).sort().map((k) => `${k}=${JSON.stringify(s.labels[k])}`).join(",") + "}";
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const withSamples = new Set<string>();
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (m === null) return; // a plain comment
      const [, kind, name, rest = ""] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC.test(name)) throw new PrometheusParseError(line, `bad metric name ${JSON.stringify(name)}`);
      let f = families.get(name);
      if (f === undefined) families.set(name, (f = { name, type: "untyped", help: "", samples: [] }));
      if (kind === "TYPE") {
        const t = rest.trim();
        if (!TYPES.has(t)) throw new PrometheusParseError(line, `bad type ${JSON.stringify(t)}`);
        if (withSamples.has(name)) throw new PrometheusParseError(line, `TYPE of ${name} after its samples`);
        f.type = t as Family["type"];
      } else {
        f.help = rest;
      }
      return;
    }
    const nameEnd = raw.search(/[{ ]/);
    if (nameEnd <= 0) throw new PrometheusParseError(line, "sample without value");
    const name = raw.slice(0, nameEnd);
    if (!METRIC.test(name)) throw new PrometheusParseError(line, `bad metric name ${JSON.stringify(name)}`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (raw[i] === "{") ({ labels, end: i } = parseLabels(raw, i + 1, line));
    const parts = raw.slice(i).trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === "") throw new PrometheusParseError(line, "expected a value and an optional timestamp");
    const value = parseValue(parts[0] as string, line);
    const fam = familyOf(name, families);
    let f = families.get(fam);
    if (f === undefined) families.set(fam, (f = { name: fam, type: "untyped", help: "", samples: [] }));
    const sample = { name, labels, value };
    const key = seriesKey(sample);
    if (seen.has(key)) throw new PrometheusParseError(line, `duplicate series ${key}`);
    seen.add(key);
    withSamples.add(fam);
    f.samples.push(sample);
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new PrometheusParseError(0, `${f.name}_bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
  }
  for (const g of groups.values()) {
    const b = g.buckets.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < b.length; i++) if ((b[i] as [number, number])[1] < (b[i - 1] as [number, number])[1]) throw new PrometheusParseError(0, `${f.name}: buckets are not cumulative`);
    const last = b.at(-1);
    if (last === undefined || last[0] !== Infinity) throw new PrometheusParseError(0, `${f.name}: no +Inf bucket`);
    if (g.count !== undefined && g.count !== last[1]) throw new PrometheusParseError(0, `${f.name}: +Inf bucket differs from _count`);
  }
}
