// The last finished request, kept reachable so that a quiet proxy's next requests run optimized code
// (issue 15; docs/performance.md, "Session 11: CPU per request at 1,000 rps").
//
// V8 keeps an object's hidden class (its map) alive through the object's live instances only: the
// transition tree holds maps weakly, and so does the optimized code that checks them. A proxy gone
// quiet holds no request object, so the full collection of a quiet proxy (idle-gc.ts) frees the maps
// of the request path's objects and deoptimizes every function whose code embeds them (V8's log:
// "embedded weak objects cleared", 87 functions — the request path from the head parser to the
// telemetry hooks). The next traffic builds new maps, runs unoptimized and has V8 compile it all again:
// for ≈ 10 s at 1,000 rps, 1.8× the CPU per request. Holding the last finished exchange keeps its
// maps alive, and those of what it references (its connection, forwarder, request head and telemetry
// state); the forwarder lets go of the upstream's response head once it is relayed, so the last one
// is held too: one request's objects, replaced by every request. HTTP/2 downstream exchanges have their
// own slot (a sidecar serving both keeps one of each): the last finished one that holds no request body
// (an exchange keeps the chunks it may replay), with its stream, connection and forwarder; its forwarder
// lets go of the upstream attempt when the response ends, so the last finished attempt is held too.
let last: object | null = null;
let lastResponseHead: object | null = null;
let lastH2: object | null = null;
let lastAttempt: object | null = null;

/** The exchange that finished last: held, nothing else (see the header). */
export function keepLastRequest(x: object): void {
  last = x;
}

/** The upstream response head relayed last: held, nothing else. */
export function keepLastResponseHead(head: object): void {
  lastResponseHead = head;
}

/** The HTTP/2 downstream exchange that finished last (without a held request body): held, nothing else. */
export function keepLastH2Request(x: object): void {
  lastH2 = x;
}

/** The HTTP/2 forwarder's upstream attempt that ended last: held, nothing else. */
export function keepLastAttempt(a: object): void {
  lastAttempt = a;
}

/** What keepLastRequest holds (tests). */
export function lastRequest(): object | null {
  return last;
}

/** What keepLastResponseHead holds (tests). */
export function lastResponseHeadKept(): object | null {
  return lastResponseHead;
}

/** What keepLastH2Request holds (tests). */
export function lastH2Request(): object | null {
  return lastH2;
}

/** What keepLastAttempt holds (tests). */
export function lastAttemptKept(): object | null {
  return lastAttempt;
}
