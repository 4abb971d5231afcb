// Fixed windows, as the reference service counts (envoyproxy/ratelimit src/limiter/cache_key.go,
// src/utils/utilities.go): a counter per descriptor per window, keyed
// `<domain>_<key>_<value>_…_<window start in unix seconds>`, living for one window; the reset is
// the rest of the current window. Pure.
import type { DescriptorEntry } from "./match.ts";
import { UNIT_SECONDS, type Unit } from "./units.ts";

/** The counter key of one descriptor in the window that contains `nowSeconds`. */
export function counterKey(prefix: string, domain: string, entries: readonly DescriptorEntry[], unit: Unit, nowSeconds: number): string {
  const divider = UNIT_SECONDS[unit];
  let key = `${prefix}${domain}_`;
  for (const e of entries) key += `${e.key}_${e.value}_`;
  return key + String(Math.floor(nowSeconds / divider) * divider);
}

/** Seconds until the window that contains `nowSeconds` ends (1…window length). */
export function secondsUntilReset(unit: Unit, nowSeconds: number): number {
  const divider = UNIT_SECONDS[unit];
  return divider - (Math.floor(nowSeconds) % divider);
}

/** How long a counter lives: one window (the reference's expiration, without its optional jitter). */
export function counterTtl(unit: Unit): number {
  return UNIT_SECONDS[unit];
}
