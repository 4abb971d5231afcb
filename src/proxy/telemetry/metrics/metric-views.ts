// Telemetry `metrics.overrides`, compiled once per config: for each side (client, server) and each
// Istio metric, whether it is reported and which labels it carries — Istio's labels minus the
// removed ones, with upserted labels set from CEL expressions. A series' labels are computed once,
// when the series is created; requests only evaluate the expressions that read per-request
// attributes (headers, path…), whose values become part of the series key. With no overrides
// nothing here runs on the request path.
import type { ListenerDirection, MetricOverride } from "../../../model/proxy-config.ts";
import type { CelAttributes } from "../../../model/cel/attributes.ts";
import { celText, compileCel, type CompiledCel } from "../../../model/cel/compile.ts";
import { labelText } from "./prometheus-text.ts";

export const HTTP_METRICS = ["REQUEST_COUNT", "REQUEST_DURATION", "REQUEST_SIZE", "RESPONSE_SIZE"] as const;
export const TCP_METRICS = ["TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS", "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES"] as const;

/** One metric on one side: off, or its label names with where each value comes from. */
interface View {
  readonly on: boolean;
  /** True when it carries Istio's labels unchanged. */
  readonly plain: boolean;
  readonly names: readonly string[];
  /** A base label's index, or an expression. */
  readonly from: readonly (number | CompiledCel)[];
}

/** Per metric label text (null: the metric is off for this series), or null when all are plain. */
export type PerMetricLabels = readonly (string | null)[] | null;

const sideOf = (d: ListenerDirection): 0 | 1 => (d === "inbound" ? 1 : 0);

export class MetricViews {
  /** No override at all: every metric on, Istio's labels. */
  readonly none: boolean;
  private readonly views: { http: View[]; tcp: View[] }[];
  /** Per side: the expressions whose values vary per request (part of the series key). */
  private readonly perRequest: CompiledCel[][];

  constructor(overrides: readonly MetricOverride[] | undefined, httpLabels: readonly string[], tcpLabels: readonly string[]) {
    this.none = overrides === undefined || overrides.length === 0;
    const list = overrides ?? [];
    const cache = new Map<string, CompiledCel>();
    const compiled = (src: string): CompiledCel => {
      let c = cache.get(src);
      if (c === undefined) {
        c = compileCel(src);
        cache.set(src, c);
      }
      return c;
    };
    this.views = [0, 1].map((side) => ({
      http: HTTP_METRICS.map((m) => view(list, m, side, httpLabels, compiled)),
      tcp: TCP_METRICS.map((m) => view(list, m, side, tcpLabels, compiled)),
    }));
    this.perRequest = this.views.map((v) => {
      const set = new Set<CompiledCel>();
      for (const x of [...v.http, ...v.tcp]) if (x.on) for (const f of x.from) if (typeof f !== "number" && f.perRequest) set.add(f);
      return [...set];
    });
  }

  /** Any metric reported on this side (HTTP or TCP). */
  on(d: ListenerDirection, tcp: boolean): boolean {
    const v = this.views[sideOf(d)] as { http: View[]; tcp: View[] };
    return (tcp ? v.tcp : v.http).some((x) => x.on);
  }

  /** The per-request part of the series key ("" when no expression reads per-request attributes). */
  requestKey(d: ListenerDirection, a: CelAttributes): string {
    const list = this.perRequest[sideOf(d)] as CompiledCel[];
    let s = "";
    for (let i = 0; i < list.length; i++) s += "\u001f" + celText((list[i] as CompiledCel).eval(a));
    return s;
  }

  /** Whether requests on this side need requestKey. */
  keysPerRequest(d: ListenerDirection): boolean {
    return (this.perRequest[sideOf(d)] as CompiledCel[]).length > 0;
  }

  /** The label text of each metric for a new series with Istio label `values`. */
  labels(d: ListenerDirection, tcp: boolean, values: readonly string[], a: CelAttributes): PerMetricLabels {
    const v = this.views[sideOf(d)] as { http: View[]; tcp: View[] };
    const views = tcp ? v.tcp : v.http;
    if (views.every((x) => x.on && x.plain)) return null;
    const results = new Map<CompiledCel, string>();
    return views.map((x) => {
      if (!x.on) return null;
      const vals = x.from.map((f) => {
        if (typeof f === "number") return values[f] ?? "";
        let r = results.get(f);
        if (r === undefined) {
          r = celText(f.eval(a));
          results.set(f, r);
        }
        return r;
      });
      return labelText(x.names, vals);
    });
  }
}

function covers(o: MetricOverride, metric: string, side: number): boolean {
  if (o.metric !== "ALL_METRICS" && o.metric !== metric) return false;
  return o.mode === undefined || o.mode === "CLIENT_AND_SERVER" || (o.mode === "SERVER") === (side === 1);
}

/** Applies the overrides in order, as Istio does: later ones win for `disabled` and for each tag. */
function view(list: readonly MetricOverride[], metric: string, side: number, base: readonly string[], compiled: (src: string) => CompiledCel): View {
  let on = true;
  const tags = new Map<string, { value: string } | { remove: true }>();
  for (const o of list) {
    if (!covers(o, metric, side)) continue;
    if (o.disabled !== undefined) on = !o.disabled;
    for (const [name, t] of Object.entries(o.tags ?? {})) tags.set(name, t);
  }
  if (tags.size === 0) return { on, plain: true, names: base, from: base.map((_, i) => i) };
  const names: string[] = [];
  const from: (number | CompiledCel)[] = [];
  base.forEach((n, i) => {
    const t = tags.get(n);
    if (t !== undefined && "remove" in t) return;
    names.push(n);
    from.push(t !== undefined ? compiled(t.value) : i);
  });
  for (const n of [...tags.keys()].filter((k) => !base.includes(k)).sort()) {
    const t = tags.get(n) as { value: string } | { remove: true };
    if ("remove" in t) continue;
    names.push(n);
    from.push(compiled(t.value));
  }
  return { on, plain: false, names, from };
}
