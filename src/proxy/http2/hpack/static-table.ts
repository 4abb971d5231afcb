// The HPACK static table (RFC 7541 Appendix A): 61 (name, value) pairs, index 1–61. The strings
// are module constants, so an indexed field returns the same interned strings every time.

/** Flat name, value, name, value… — entry i (1-based) is at [2(i−1)], [2(i−1)+1]. */
export const STATIC_TABLE: readonly string[] = [
  ":authority", "",
  ":method", "GET",
  ":method", "POST",
  ":path", "/",
  ":path", "/index.html",
  ":scheme", "http",
  ":scheme", "https",
  ":status", "200",
  ":status", "204",
  ":status", "206",
  ":status", "304",
  ":status", "400",
  ":status", "404",
  ":status", "500",
  "accept-charset", "",
  "accept-encoding", "gzip, deflate",
  "accept-language", "",
  "accept-ranges", "",
  "accept", "",
  "access-control-allow-origin", "",
  "age", "",
  "allow", "",
  "authorization", "",
  "cache-control", "",
  "content-disposition", "",
  "content-encoding", "",
  "content-language", "",
  "content-length", "",
  "content-location", "",
  "content-range", "",
  "content-type", "",
  "cookie", "",
  "date", "",
  "etag", "",
  "expect", "",
  "expires", "",
  "from", "",
  "host", "",
  "if-match", "",
  "if-modified-since", "",
  "if-none-match", "",
  "if-range", "",
  "if-unmodified-since", "",
  "last-modified", "",
  "link", "",
  "location", "",
  "max-forwards", "",
  "proxy-authenticate", "",
  "proxy-authorization", "",
  "range", "",
  "referer", "",
  "refresh", "",
  "retry-after", "",
  "server", "",
  "set-cookie", "",
  "strict-transport-security", "",
  "transfer-encoding", "",
  "user-agent", "",
  "vary", "",
  "via", "",
  "www-authenticate", "",];

export const STATIC_COUNT = 61;

/** RFC 7541 §4.1: a table entry's size is its name and value octets plus 32. */
export const ENTRY_OVERHEAD = 32;

/** Lowest static index of each name (for name-indexed literals). */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = new Map(
  Array.from({ length: STATIC_COUNT }, (_, i) => [STATIC_TABLE[2 * i]!, i + 1] as const).reverse(),
);

/** Static index of each (name, value) pair whose value is not empty: name → value → index. */
export const STATIC_PAIR_INDEX: ReadonlyMap<string, ReadonlyMap<string, number>> = (() => {
  const m = new Map<string, Map<string, number>>();
  for (let i = 0; i < STATIC_COUNT; i++) {
    const name = STATIC_TABLE[2 * i]!;
    const value = STATIC_TABLE[2 * i + 1]!;
    if (value === "") continue;
    let values = m.get(name);
    if (values === undefined) m.set(name, (values = new Map()));
    values.set(value, i + 1);
  }
  return m;
})();
