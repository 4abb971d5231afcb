// Animated traffic on a graph edge, as Kiali draws it: dots travel from caller to callee; their
// number on the edge follows the request rate (density ∝ rps) and their colour the edge's error
// rate. Each dot stands for a share of the requests, not one request. Pure: the browser calls it
// every animation frame with the time; tests call it with chosen times.

/** Seconds a dot takes to cross an edge (speed is fixed; density carries the rate). */
export const CROSSING_S = 2;
/** Dots on an edge per request per second, and the bounds (one dot at least while traffic flows). */
export const DOTS_PER_RPS = 2;
export const MAX_DOTS = 40;

export function dotCount(rps: number): number {
  if (!(rps > 0)) return 0;
  return Math.max(1, Math.min(MAX_DOTS, Math.round(rps * DOTS_PER_RPS * CROSSING_S)));
}

/**
 * Positions (0 = source, 1 = target) of the dots on an edge at `nowMs`, evenly spaced and moving
 * together; `phase` (0..1, e.g. from the edge id) keeps edges from moving in lockstep.
 */
export function dotPositions(rps: number, nowMs: number, phase = 0, out: number[] = []): number[] {
  out.length = 0;
  const n = dotCount(rps);
  if (n === 0) return out;
  const base = ((nowMs / 1000 / CROSSING_S + phase) % 1 + 1) % 1;
  for (let i = 0; i < n; i++) out.push((base + i / n) % 1);
  return out;
}

/** A stable phase in [0, 1) from a string (FNV-1a). */
export function phaseOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 0x100000000;
}

/** The point at fraction t along a straight segment. */
export function along(a: { x: number; y: number }, b: { x: number; y: number }, t: number): { x: number; y: number } {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
}
