// Envoy's X-RateLimit headers (enable_x_ratelimit_headers: DRAFT_VERSION_03, ratelimit_headers.cc),
// from the service's descriptor statuses: the status with the fewest requests remaining gives
// x-ratelimit-limit (its limit, then `, <limit>;w=<window s>[;name="<name>"]` for every status with
// a limit), x-ratelimit-remaining and x-ratelimit-reset (seconds to the end of its window). Pure.
import type { RlsStatus } from "./rls-client.ts";

const WINDOW_S: Record<string, number> = { SECOND: 1, MINUTE: 60, HOUR: 3600, DAY: 86400 };

export function xRateLimitHeaders(statuses: readonly RlsStatus[]): [string, string][] {
  let min: RlsStatus | null = null;
  let policy = "";
  for (const s of statuses) {
    const l = s.current_limit;
    if (l === null) continue;
    if (min === null || s.limit_remaining < min.limit_remaining) min = s;
    const w = WINDOW_S[l.unit] ?? 0;
    if (w > 0) policy += `, ${l.requests_per_unit};w=${w}${l.name !== "" ? `;name="${l.name}"` : ""}`;
  }
  if (min === null) return [];
  return [
    ["x-ratelimit-limit", `${min.current_limit!.requests_per_unit}${policy}`],
    ["x-ratelimit-remaining", String(min.limit_remaining)],
    ["x-ratelimit-reset", String(min.duration_until_reset?.seconds ?? 0)],
  ];
}
