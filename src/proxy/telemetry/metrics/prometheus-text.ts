// Prometheus text exposition format (version 0.0.4) writer: `# HELP`, `# TYPE`, one line per
// sample. Rendering happens only when someone scrapes; recording never touches text.
import { formatBound, type Histogram } from "./histogram.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** `a="x",b="y"` (no braces) for label names and values of the same length. */
export function labelText(names: readonly string[], values: readonly string[]): string {
  let s = "";
  for (let i = 0; i < names.length; i++) s += (i === 0 ? "" : ",") + names[i] + '="' + escapeLabelValue(values[i] ?? "") + '"';
  return s;
}

/** A metric name made safe: [a-zA-Z_:][a-zA-Z0-9_:]* */
export function metricName(raw: string): string {
  const s = raw.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[0-9]/.test(s) ? "_" + s : s;
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export class PrometheusWriter {
  private readonly parts: string[] = [];

  header(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.parts.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
  }

  /** One sample; `labels` is labelText output ("" for none). */
  sample(name: string, labels: string, value: number): void {
    this.parts.push(labels === "" ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`);
  }

  histogram(name: string, labels: string, h: Histogram): void {
    const cum = h.cumulative();
    const bounds = h.bucketBounds;
    const sep = labels === "" ? "" : labels + ",";
    let s = "";
    for (let i = 0; i < bounds.length; i++) s += `${name}_bucket{${sep}le="${formatBound(bounds[i] as number)}"} ${cum[i]}\n`;
    s += `${name}_bucket{${sep}le="+Inf"} ${cum[cum.length - 1]}\n`;
    const braces = labels === "" ? "" : `{${labels}}`;
    s += `${name}_sum${braces} ${formatValue(h.sum)}\n${name}_count${braces} ${h.count}\n`;
    this.parts.push(s);
  }

  text(): string {
    return this.parts.join("");
  }
}

/** labelText's inverse: `a="x",b="y\"z"` → [["a","x"],["b",'y"z']] (exporters send labels as attributes or tags). */
export function parseLabelText(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('="', i);
    if (eq < 0) break;
    const name = text.slice(i, eq);
    let v = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\" && j + 1 < text.length) {
        j++;
        v += text[j] === "n" ? "\n" : text[j];
      } else v += text[j];
    }
    out.push([name, v]);
    i = j + 2; // past the closing quote and the comma
  }
  return out;
}
