// HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3). Case-sensitive: "http/1.1" is not a version.

/** Returns the minor version (0|1) of buf[s, e); -2 for a well-formed but unsupported version (→ 505); -1 if malformed. */
export function parseVersion(buf: Buffer, s: number, e: number): number {
  if (
    e - s !== 8 ||
    buf[s] !== 0x48 || // H
    buf[s + 1] !== 0x54 || // T
    buf[s + 2] !== 0x54 || // T
    buf[s + 3] !== 0x50 || // P
    buf[s + 4] !== 0x2f || // /
    buf[s + 6] !== 0x2e // .
  ) {
    return -1;
  }
  const major = buf[s + 5]! - 0x30;
  const minor = buf[s + 7]! - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return -1;
  if (major !== 1 || minor > 1) return -2;
  return minor;
}
