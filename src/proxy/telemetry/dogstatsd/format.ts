// DogStatsD lines (Datadog's datagram format, as Envoy's dog_statsd sink writes them):
// `<metric>:<value>|<type>[|@<sample rate>][|#<tag>:<value>,…]`, several lines per datagram
// separated by "\n". Pure.

/** Datadog's UDP datagram size guidance for a 1500-byte MTU (what its clients default to). */
export const MAX_DATAGRAM_BYTES = 1432;

/** A tag value or name safe in a line: the separators of the format (`,` `|` `#`, whitespace) become `_`. */
export function tagText(s: string): string {
  return s.replace(/[,|#\s]/g, "_");
}

/** `#k:v,k2:v2` for label names and values ("" when there are none). */
export function tagsOf(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return "";
  let s = "|#";
  for (let i = 0; i < names.length; i++) s += (i === 0 ? "" : ",") + tagText(names[i] as string) + ":" + tagText(values[i] ?? "");
  return s;
}

/** The metric name with the prefix (`envoy.istio_requests_total`); a name keeps letters, digits, `_` and `.`. */
export function metricName(prefix: string, name: string): string {
  const n = prefix === "" ? name : `${prefix}.${name}`;
  return n.replace(/[^A-Za-z0-9_.]/g, "_");
}

/** A counter increment: `name:3|c|#tags`. */
export function counterLine(name: string, delta: number, tags: string): string {
  return `${name}:${delta}|c${tags}`;
}

/**
 * `n` observations whose mean is `mean`, as one distribution sample standing for n (sample rate
 * 1/n: the agent counts it n times), so counts and sums are exact and each value is its bucket's mean.
 */
export function distributionLine(name: string, mean: number, n: number, tags: string): string {
  const v = Number.isInteger(mean) ? String(mean) : String(Math.round(mean * 1000) / 1000);
  return n === 1 ? `${name}:${v}|d${tags}` : `${name}:${v}|d|@${1 / n}${tags}`;
}

/** Lines packed into datagrams of at most `max` bytes (a longer line goes alone). */
export function packDatagrams(lines: readonly string[], max = MAX_DATAGRAM_BYTES): string[] {
  const out: string[] = [];
  let cur = "";
  for (const line of lines) {
    if (cur !== "" && Buffer.byteLength(cur) + 1 + Buffer.byteLength(line) > max) {
      out.push(cur);
      cur = "";
    }
    cur = cur === "" ? line : cur + "\n" + line;
  }
  if (cur !== "") out.push(cur);
  return out;
}
