// The header-name sets telemetry drops from forwarded heads: the forwarder's set for a destination
// widened by our identity header (x-amime-peer) and, with tracing, the trace context headers —
// made once per base set and reused by every request to that destination (no per-request edit).
import type { HeaderEdit } from "../request/context.ts";
import { compileHeaderNames } from "../http1/index.ts";
import type { HeaderNameSet } from "../http1/types.ts";
import { PEER_HEADER } from "./peer.ts";
import { TRACE_HEADERS } from "./tracing/trace-context.ts";

const NO_PAIRS: readonly [string, string][] = Object.freeze([]) as readonly [string, string][];
const PEER_NAMES = [PEER_HEADER];
/** The sets that widen one base set, and the edits that only drop them (one object each, no per-request edit). */
export interface Widened {
  peer: HeaderNameSet;
  trace: HeaderNameSet;
  peerOnly: HeaderEdit;
  traceOnly: HeaderEdit;
}
const unionCache = new WeakMap<HeaderNameSet, Widened>();
const EMPTY_DROP = { set: null as HeaderNameSet | null, edit: null as HeaderEdit | null };

/** `base` plus our header names (cached per base set: the forwarder's sets are per destination). */
export function widen(base: HeaderNameSet | undefined, withTrace: boolean): HeaderNameSet {
  if (base === undefined) return (EMPTY_DROP.set ??= compileHeaderNames(PEER_NAMES));
  const u = unionOf(base);
  return withTrace ? u.trace : u.peer;
}

let lastBase: HeaderNameSet | null = null;
let lastUnion: Widened | null = null;

export function unionOf(base: HeaderNameSet): Widened {
  // Requests to one destination repeat one base set: compared before the WeakMap's hashing.
  if (base === lastBase) return lastUnion as Widened;
  let u = unionCache.get(base);
  if (u === undefined) {
    const make = (names: readonly string[]): HeaderNameSet => {
      const extra = compileHeaderNames(names);
      return { matches: (b, s, e) => base.matches(b, s, e) || extra.matches(b, s, e), has: (n) => base.has(n) || extra.has(n) };
    };
    const peer = make(PEER_NAMES);
    const trace = make([...PEER_NAMES, ...TRACE_HEADERS]);
    u = { peer, trace, peerOnly: { drop: peer, add: NO_PAIRS }, traceOnly: { drop: trace, add: NO_PAIRS } };
    unionCache.set(base, u);
  }
  lastBase = base;
  lastUnion = u;
  return u;
}

/** The edit that only strips the peer header (a client-side response): one object per drop set. */
export function stripPeer(base: HeaderNameSet | undefined): HeaderEdit {
  if (base === undefined) return (EMPTY_DROP.edit ??= { drop: widen(undefined, false), add: NO_PAIRS });
  return unionOf(base).peerOnly;
}
