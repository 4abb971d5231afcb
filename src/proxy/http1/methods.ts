// Method tokens as interned strings: the common ones are recognised from the bytes without
// building a string, so `head.method === "GET"` compares constants.

const BY_LENGTH: ReadonlyArray<readonly string[]> = (() => {
  const methods = ["GET", "PUT", "POST", "HEAD", "PATCH", "TRACE", "DELETE", "OPTIONS", "CONNECT"];
  const t: string[][] = [];
  for (const m of methods) (t[m.length] ??= []).push(m);
  return t;
})();

/** The method string for buf[s, e) (a validated token). Methods are case-sensitive (RFC 9110 §9.1). */
export function internMethod(buf: Buffer, s: number, e: number): string {
  const bucket = BY_LENGTH[e - s];
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) {
      const m = bucket[i]!;
      if (sameBytes(buf, s, m)) return m;
    }
  }
  return buf.toString("latin1", s, e);
}

function sameBytes(buf: Buffer, s: number, m: string): boolean {
  for (let i = 0; i < m.length; i++) if (buf[s + i] !== m.charCodeAt(i)) return false;
  return true;
}

