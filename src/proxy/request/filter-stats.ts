// Counters HTTP filters keep, under Envoy's stat names (`<stat_prefix>.http_local_rate_limit.ok`,
// `cluster.<rls cluster>.ratelimit.over_limit`…): a filter asks once per config for its group
// and increments plain fields on the request path; the admin /stats page lists every group.

export class FilterStats {
  private readonly groups = new Map<string, Record<string, number>>();

  /** The counter group named `prefix` (e.g. `http_local_rate_limiter.http_local_rate_limit`), made on first use. */
  group<T extends Record<string, number>>(prefix: string, make: () => T): T {
    let g = this.groups.get(prefix);
    if (g === undefined) {
      g = make();
      this.groups.set(prefix, g);
    }
    return g as T;
  }

  /** `prefix.counter` → value, for the admin page. */
  *entries(): Iterable<[string, number]> {
    for (const [prefix, g] of this.groups) for (const [k, v] of Object.entries(g)) yield [`${prefix}.${k}`, v];
  }
}
