// A deep copy of a parsed config in which equal strings are one string (issue 15). JSON.parse and
// structuredClone give every occurrence of a value its own string: a config of 1,000 services
// carries 6,000 copies of "ISTIO_MUTUAL", 14,000 SPIFFE identities, 13,000 cluster names — 5.5 MB
// of a 32 MB heap were duplicates. The copy points every occurrence at the first one (taken from the
// input, so it allocates no string). Plain data only: objects and arrays are copied, anything else
// that is not a primitive (a Buffer, a Map) is cloned as structuredClone would.
//
// internInPlace does the same to a value nobody else holds (a config parsed for the sidecar alone):
// no second tree, so a config's start costs one tree of memory, not two (≈ 4 MB less peak RSS with
// 1,000 services).
export function internedCopy<T>(value: T): T {
  const pool = new Map<string, string>();
  const copy = (v: unknown): unknown => {
    if (typeof v === "string") {
      const s = pool.get(v);
      if (s !== undefined) return s;
      pool.set(v, v);
      return v;
    }
    if (typeof v !== "object" || v === null) return v;
    if (Array.isArray(v)) return v.map(copy);
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return structuredClone(v);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // A "__proto__" key of parsed JSON is an own property, not the prototype.
      if (k === "__proto__") Object.defineProperty(out, k, { value: copy(x), enumerable: true, writable: true, configurable: true });
      else out[k] = copy(x);
    }
    return out;
  };
  return copy(value) as T;
}

/** Make equal strings of plain data one string, in place; returns `value`. Only for data the caller alone holds. */
export function internInPlace<T>(value: T): T {
  const pool = new Map<string, string>();
  const intern = (v: string): string => {
    const s = pool.get(v);
    if (s !== undefined) return s;
    pool.set(v, v);
    return v;
  };
  const walk = (o: object): void => {
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) {
        const v: unknown = o[i];
        if (typeof v === "string") o[i] = intern(v);
        else if (typeof v === "object" && v !== null) walk(v);
      }
      return;
    }
    const rec = o as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      const v = rec[k];
      if (typeof v === "string") rec[k] = intern(v);
      else if (typeof v === "object" && v !== null) walk(v);
    }
  };
  if (typeof value === "object" && value !== null) walk(value);
  return value;
}
