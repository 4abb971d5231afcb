// A trace as a waterfall: one row per span, children below their parent (by parentId), indented
// by depth, with its start and length as shares of the whole trace. Zipkin's shared spans (a
// client and a server span with the same id, B3's habit) become two rows: the server one nested
// under the client one. Pure: runs in the browser and in unit tests.
import type { StoredSpan } from "../../control-plane/telemetry/span-store.ts";

export interface WaterfallRow {
  id: string;
  parentId: string | null;
  depth: number;
  service: string;
  name: string;
  kind: string;
  /** Microseconds since the trace's first span started. */
  startUs: number;
  durationUs: number;
  /** Share of the trace's length, 0..100, for the bar's left edge and width. */
  leftPct: number;
  widthPct: number;
  error: boolean;
  tags: Record<string, string>;
}

export interface Waterfall {
  traceId: string;
  startUs: number;
  durationUs: number;
  services: string[];
  rows: WaterfallRow[];
}

export function serviceOf(s: StoredSpan): string {
  return s.localEndpoint?.serviceName ?? "unknown";
}

export function isErrorSpan(s: StoredSpan): boolean {
  const t = s.tags ?? {};
  return t.error !== undefined || /^5\d\d$/.test(t["http.status_code"] ?? "");
}

export function waterfall(spans: readonly StoredSpan[]): Waterfall {
  if (spans.length === 0) return { traceId: "", startUs: 0, durationUs: 0, services: [], rows: [] };
  const start = Math.min(...spans.map((s) => s.timestamp ?? Infinity));
  const t0 = Number.isFinite(start) ? start : 0;
  const end = Math.max(...spans.map((s) => (s.timestamp ?? t0) + (s.duration ?? 0)));
  const total = Math.max(1, end - t0);
  // A node per span record; a shared server span hangs under its client twin.
  const key = (s: StoredSpan, i: number): string => `${s.id}#${i}`;
  const byId = new Map<string, { s: StoredSpan; k: string }[]>();
  spans.forEach((s, i) => {
    let l = byId.get(s.id);
    if (l === undefined) byId.set(s.id, (l = []));
    l.push({ s, k: key(s, i) });
  });
  const children = new Map<string, { s: StoredSpan; k: string }[]>();
  const roots: { s: StoredSpan; k: string }[] = [];
  const add = (parent: string | null, c: { s: StoredSpan; k: string }): void => {
    if (parent === null) return void roots.push(c);
    let l = children.get(parent);
    if (l === undefined) children.set(parent, (l = []));
    l.push(c);
  };
  for (const twins of byId.values()) {
    const client = twins.find((t) => t.s.kind !== "SERVER") ?? twins[0]!;
    for (const t of twins) {
      if (t !== client && t.s.kind === "SERVER") {
        add(client.k, t);
        continue;
      }
      const p = t.s.parentId;
      // The parent row: the server twin of the parent span when there is one (work happens there).
      const parents = p === undefined ? undefined : byId.get(p);
      const parent = parents === undefined ? undefined : (parents.find((x) => x.s.kind === "SERVER") ?? parents[0]);
      add(parent === undefined ? null : parent.k, t);
    }
  }
  const rows: WaterfallRow[] = [];
  const byStart = (a: { s: StoredSpan }, b: { s: StoredSpan }): number => (a.s.timestamp ?? 0) - (b.s.timestamp ?? 0) || (a.s.kind === "SERVER" ? 1 : 0) - (b.s.kind === "SERVER" ? 1 : 0);
  const seen = new Set<string>();
  const walk = (n: { s: StoredSpan; k: string }, depth: number, parentId: string | null): void => {
    if (seen.has(n.k)) return;
    seen.add(n.k);
    const s = n.s;
    const startUs = (s.timestamp ?? t0) - t0;
    const durationUs = s.duration ?? 0;
    rows.push({
      id: s.id,
      parentId,
      depth,
      service: serviceOf(s),
      name: s.name ?? "",
      kind: s.kind ?? "",
      startUs,
      durationUs,
      leftPct: Math.round((startUs / total) * 10000) / 100,
      widthPct: Math.max(0.2, Math.round((durationUs / total) * 10000) / 100),
      error: isErrorSpan(s),
      tags: s.tags ?? {},
    });
    for (const c of [...(children.get(n.k) ?? [])].sort(byStart)) walk(c, depth + 1, s.id);
  };
  for (const r of roots.sort(byStart)) walk(r, 0, null);
  return { traceId: spans[0]!.traceId, startUs: t0, durationUs: total, services: [...new Set(spans.map(serviceOf))].sort(), rows };
}

/** One line per trace in a search result: root name, services, span count, length, errors. */
export interface TraceSummary {
  traceId: string;
  root: string;
  services: string[];
  spans: number;
  durationUs: number;
  startUs: number;
  errors: number;
}

export function summarize(spans: readonly StoredSpan[]): TraceSummary {
  const w = waterfall(spans);
  const first = w.rows[0];
  return {
    traceId: w.traceId,
    root: first === undefined ? "" : `${first.service}: ${first.name}`,
    services: w.services,
    spans: spans.length,
    durationUs: w.durationUs,
    startUs: w.startUs,
    errors: spans.filter(isErrorSpan).length,
  };
}
