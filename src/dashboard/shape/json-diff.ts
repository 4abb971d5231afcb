// What changes between two JSON values, as field paths (`listeners[0].routes[2].weight`) with the
// value before and after: the dry-run view of an apply shows, per proxy, what it would receive.
// Arrays of named objects (listeners, clusters, routes, virtual hosts…) are matched by name, so
// one inserted route does not show every later one as changed. Pure.

export interface JsonChange {
  path: string;
  op: "added" | "removed" | "changed";
  before?: unknown;
  after?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function nameOf(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  const n = v.name ?? v.key;
  return typeof n === "string" ? n : undefined;
}

function named(a: readonly unknown[]): boolean {
  const names = a.map(nameOf);
  return a.length > 0 && names.every((n) => n !== undefined) && new Set(names).size === names.length;
}

export function jsonDiff(before: unknown, after: unknown, path = "", out: JsonChange[] = []): JsonChange[] {
  if (Object.is(before, after)) return out;
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) {
      const p = path === "" ? k : `${path}.${k}`;
      if (!(k in after)) out.push({ path: p, op: "removed", before: before[k] });
      else if (!(k in before)) out.push({ path: p, op: "added", after: after[k] });
      else jsonDiff(before[k], after[k], p, out);
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (named(before) && named(after)) {
      const b = new Map(before.map((v) => [nameOf(v) as string, v]));
      const a = new Map(after.map((v) => [nameOf(v) as string, v]));
      for (const [n, v] of b) if (!a.has(n)) out.push({ path: `${path}[${JSON.stringify(n)}]`, op: "removed", before: v });
      for (const [n, v] of a) {
        if (!b.has(n)) out.push({ path: `${path}[${JSON.stringify(n)}]`, op: "added", after: v });
        else jsonDiff(b.get(n), v, `${path}[${JSON.stringify(n)}]`, out);
      }
      return out;
    }
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= after.length) out.push({ path: p, op: "removed", before: before[i] });
      else if (i >= before.length) out.push({ path: p, op: "added", after: after[i] });
      else jsonDiff(before[i], after[i], p, out);
    }
    return out;
  }
  out.push({ path, op: "changed", before, after });
  return out;
}
