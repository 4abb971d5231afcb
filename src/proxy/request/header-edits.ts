// Request header edits made by filters (setHeader / removeHeader on a RequestContext): kept aside
// from the parsed head, read back by header(), and applied by whichever driver writes the upstream
// request. Allocated only for a request a filter edits.
import { checkHeaderLines, compileHeaderNames } from "../http1/index.ts";
import type { HeaderNameSet } from "../http1/types.ts";

export class HeaderEdits {
  /** Lower-case name → value: replaces every original of that name. */
  readonly set = new Map<string, string>();
  /** Lower-case names removed (originals and earlier sets). */
  readonly removed = new Set<string>();
  private names: HeaderNameSet | null = null;

  /** Throws TypeError for a name or value that cannot go on the wire (CR/LF injection). */
  put(name: string, value: string): void {
    const n = name.toLowerCase();
    checkHeaderLines([[n, value]]);
    this.removed.delete(n);
    this.set.set(n, value);
    this.names = null;
  }

  remove(name: string): void {
    const n = name.toLowerCase();
    this.set.delete(n);
    this.removed.add(n);
    this.names = null;
  }

  /** The edited value: a string, null when removed, undefined when not edited. */
  get(name: string): string | null | undefined {
    const v = this.set.get(name);
    if (v !== undefined) return v;
    return this.removed.has(name) ? null : undefined;
  }

  /** Every name whose originals must not be forwarded (set and removed ones). */
  dropNames(): HeaderNameSet {
    return (this.names ??= namesFor(this.set, this.removed));
  }

  /** The set headers as header lines (SerializeRequestOptions.lines; checked when put). */
  lines(): string {
    let s = "";
    for (const [n, v] of this.set) s += n + ": " + v + "\r\n";
    return s;
  }

  /** The set headers as pairs. */
  pairs(): [string, string][] {
    return [...this.set];
  }
}

/** `names` (a request's own header names) with the edits applied: removed ones gone, set ones added. */
export function withEdits(names: Set<string>, edits: HeaderEdits | null): string[] {
  if (edits !== null) {
    for (const n of edits.removed) names.delete(n);
    for (const n of edits.set.keys()) names.add(n);
  }
  return [...names];
}

/**
 * The drop set of a request's edits. Most requests of a listener make the same single removal
 * (jwt_authn strips the token's header): that set is compiled once per name (the name string comes
 * from config, so the lookup does not hash a new string); other edits compile their own.
 */
const singleRemoval = new Map<string, HeaderNameSet>();

function namesFor(set: ReadonlyMap<string, string>, removed: ReadonlySet<string>): HeaderNameSet {
  if (set.size === 0 && removed.size === 1) {
    const name = removed.values().next().value as string;
    let c = singleRemoval.get(name);
    if (c === undefined) {
      if (singleRemoval.size >= 64) singleRemoval.clear(); // names from request data: bounded
      c = compileHeaderNames([name]);
      singleRemoval.set(name, c);
    }
    return c;
  }
  return compileHeaderNames([...set.keys(), ...removed]);
}

/** The last union made: a listener's requests ask for the same pair over and over. */
let lastA: HeaderNameSet | null = null;
let lastB: HeaderNameSet | null = null;
let lastUnion: HeaderNameSet | null = null;

/** `a` or `b` has the name. */
export function unionNames(a: HeaderNameSet, b: HeaderNameSet): HeaderNameSet {
  if (a === lastA && b === lastB) return lastUnion as HeaderNameSet;
  const u: HeaderNameSet = {
    matches: (buf, start, end) => a.matches(buf, start, end) || b.matches(buf, start, end),
    has: (n) => a.has(n) || b.has(n),
  };
  lastA = a;
  lastB = b;
  lastUnion = u;
  return u;
}
