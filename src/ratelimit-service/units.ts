// Rate-limit units: the names the reference service's config.yaml accepts, the number the
// protocol sends (envoy.type.v3.RateLimitUnit), and the window length in seconds
// (envoyproxy/ratelimit src/utils: UnitToDivider — a month is 30 days, a year 365).

export type Unit = "SECOND" | "MINUTE" | "HOUR" | "DAY" | "WEEK" | "MONTH" | "YEAR";

export const UNIT_SECONDS: Readonly<Record<Unit, number>> = {
  SECOND: 1,
  MINUTE: 60,
  HOUR: 60 * 60,
  DAY: 24 * 60 * 60,
  WEEK: 7 * 24 * 60 * 60,
  MONTH: 30 * 24 * 60 * 60,
  YEAR: 365 * 24 * 60 * 60,
};

/** envoy.type.v3.RateLimitUnit and RateLimitResponse.RateLimit.Unit numbers. */
export const UNIT_NUMBERS: Readonly<Record<Unit, number>> = { SECOND: 1, MINUTE: 2, HOUR: 3, DAY: 4, MONTH: 5, YEAR: 6, WEEK: 7 };

/** config.yaml writes units in any case (`minute`, `MINUTE`), as the reference's strings.ToUpper. */
export function parseUnit(text: string): Unit | undefined {
  const upper = text.toUpperCase();
  return Object.hasOwn(UNIT_SECONDS, upper) ? (upper as Unit) : undefined;
}

/** The unit a protocol number names (a per-descriptor override), or undefined for UNKNOWN/others. */
export function unitOfNumber(n: number | string): Unit | undefined {
  if (typeof n === "string") return parseUnit(n);
  for (const [unit, num] of Object.entries(UNIT_NUMBERS)) if (num === n) return unit as Unit;
  return undefined;
}
