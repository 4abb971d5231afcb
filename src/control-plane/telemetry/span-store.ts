// SpanStore: the embedded Zipkin collector's memory. A ring of the last N spans (the oldest go
// first), indexed by trace id, answering Zipkin v2's queries: services, span names per service,
// one trace, and trace search by service / span name / duration / time window.

export interface StoredEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

/** A Zipkin v2 span as posted (only the fields the queries read are typed). */
export interface StoredSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  /** Microseconds since the epoch. */
  timestamp?: number;
  /** Microseconds. */
  duration?: number;
  localEndpoint?: StoredEndpoint;
  remoteEndpoint?: StoredEndpoint;
  tags?: Record<string, string>;
  [k: string]: unknown;
}

export interface TraceQuery {
  serviceName?: string;
  spanName?: string;
  /** Microseconds. */
  minDuration?: number;
  maxDuration?: number;
  /** Milliseconds since the epoch; default now. */
  endTs?: number;
  /** Milliseconds before endTs; default 24 h. */
  lookback?: number;
  /** Default 10. */
  limit?: number;
  /**
   * Zipkin's annotationQuery: terms joined by ` and `; `key=value` needs that tag value, `key`
   * alone the tag (or an annotation with that value). One span must match every term.
   */
  annotationQuery?: string;
}

/** The terms of an annotationQuery. */
export function parseAnnotationQuery(q: string): { key: string; value?: string }[] {
  return q.split(/\s+and\s+/i).map((t) => t.trim()).filter((t) => t !== "").map((t) => {
    const i = t.indexOf("=");
    return i < 0 ? { key: t } : { key: t.slice(0, i), value: t.slice(i + 1) };
  });
}

function annotated(s: StoredSpan, terms: readonly { key: string; value?: string }[]): boolean {
  const tags = s.tags ?? {};
  const notes = Array.isArray(s.annotations) ? (s.annotations as { value?: unknown }[]).map((a) => a?.value) : [];
  return terms.every((t) => (t.value === undefined ? t.key in tags || notes.includes(t.key) : tags[t.key] === t.value));
}

const HEX = /^[0-9a-f]+$/;

/** Check and normalise one posted span; a string says what is wrong. */
export function checkSpan(v: unknown, i: number): StoredSpan | string {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return `span ${i}: must be an object`;
  const s = v as Record<string, unknown>;
  const traceId = typeof s.traceId === "string" ? s.traceId.toLowerCase() : "";
  if (!HEX.test(traceId) || (traceId.length !== 16 && traceId.length !== 32)) return `span ${i}: traceId must be 16 or 32 hex characters`;
  const id = typeof s.id === "string" ? s.id.toLowerCase() : "";
  if (!HEX.test(id) || id.length !== 16) return `span ${i}: id must be 16 hex characters`;
  if (s.parentId !== undefined && (typeof s.parentId !== "string" || !HEX.test(s.parentId.toLowerCase()) || s.parentId.length !== 16)) return `span ${i}: parentId must be 16 hex characters`;
  for (const k of ["timestamp", "duration"]) if (s[k] !== undefined && (typeof s[k] !== "number" || !Number.isFinite(s[k]) || (s[k] as number) < 0)) return `span ${i}: ${k} must be a non-negative number`;
  const out: StoredSpan = { ...s, traceId, id };
  if (typeof s.parentId === "string") out.parentId = s.parentId.toLowerCase();
  if (typeof s.name === "string") out.name = s.name.toLowerCase();
  return out;
}

export class SpanStore {
  readonly capacity: number;
  private readonly ring: (StoredSpan | undefined)[];
  private next = 0;
  private size = 0;
  private readonly byTrace = new Map<string, StoredSpan[]>();
  /** Spans accepted in total, and evicted by the ring. */
  accepted = 0;
  evicted = 0;

  constructor(capacity = 50_000) {
    this.capacity = capacity;
    this.ring = new Array<StoredSpan | undefined>(capacity);
  }

  get spanCount(): number {
    return this.size;
  }

  add(spans: readonly StoredSpan[]): void {
    for (const s of spans) {
      const old = this.ring[this.next];
      if (old !== undefined) this.evict(old);
      this.ring[this.next] = s;
      this.next = (this.next + 1) % this.capacity;
      if (this.size < this.capacity) this.size++;
      let list = this.byTrace.get(s.traceId);
      if (list === undefined) this.byTrace.set(s.traceId, (list = []));
      list.push(s);
      this.accepted++;
    }
  }

  private evict(s: StoredSpan): void {
    this.evicted++;
    const list = this.byTrace.get(s.traceId);
    if (list === undefined) return;
    const i = list.indexOf(s);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byTrace.delete(s.traceId);
  }

  services(): string[] {
    const out = new Set<string>();
    for (const list of this.byTrace.values()) for (const s of list) if (s.localEndpoint?.serviceName) out.add(s.localEndpoint.serviceName.toLowerCase());
    return [...out].sort();
  }

  spanNames(service: string): string[] {
    const want = service.toLowerCase();
    const out = new Set<string>();
    for (const list of this.byTrace.values()) for (const s of list) if (s.localEndpoint?.serviceName?.toLowerCase() === want && s.name) out.add(s.name);
    return [...out].sort();
  }

  trace(id: string): StoredSpan[] | undefined {
    const key = id.toLowerCase();
    // A 64-bit id also finds a 128-bit trace with that low half, and the other way round.
    const list = this.byTrace.get(key) ?? this.byTrace.get(key.length === 32 ? key.slice(16) : key.padStart(32, "0"));
    return list === undefined || list.length === 0 ? undefined : [...list].sort(byTimestamp);
  }

  traces(q: TraceQuery, nowMs: number): StoredSpan[][] {
    const endUs = (q.endTs ?? nowMs) * 1000;
    const startUs = endUs - (q.lookback ?? 86_400_000) * 1000;
    const service = q.serviceName?.toLowerCase();
    const spanName = q.spanName?.toLowerCase();
    const terms = q.annotationQuery === undefined ? [] : parseAnnotationQuery(q.annotationQuery);
    const hits: { ts: number; spans: StoredSpan[] }[] = [];
    for (const list of this.byTrace.values()) {
      const match = list.some((s) => {
        if (service !== undefined && s.localEndpoint?.serviceName?.toLowerCase() !== service && s.remoteEndpoint?.serviceName?.toLowerCase() !== service) return false;
        if (spanName !== undefined && spanName !== "all" && s.name !== spanName) return false;
        if (q.minDuration !== undefined && (s.duration ?? 0) < q.minDuration) return false;
        if (q.maxDuration !== undefined && (s.duration ?? 0) > q.maxDuration) return false;
        if (terms.length > 0 && !annotated(s, terms)) return false;
        const ts = s.timestamp ?? 0;
        return ts >= startUs && ts <= endUs;
      });
      if (!match) continue;
      const sorted = [...list].sort(byTimestamp);
      hits.push({ ts: sorted[0]?.timestamp ?? 0, spans: sorted });
    }
    hits.sort((a, b) => b.ts - a.ts);
    return hits.slice(0, q.limit ?? 10).map((h) => h.spans);
  }
}

function byTimestamp(a: StoredSpan, b: StoredSpan): number {
  return (a.timestamp ?? 0) - (b.timestamp ?? 0);
}
