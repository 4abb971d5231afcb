// Ports for tests that must name a port before something binds it (a sidecar's listener, an
// `amime up` port base, an address with nothing behind it). They come from outside the kernel's
// ephemeral range (below it, or above it when it starts low): a port from "bind 0, then close" lies
// inside that range, and any outgoing connection made meanwhile (a proxy's stream to the control
// plane) may take it as its source port, so the later bind fails with EADDRINUSE.
import { readFileSync } from "node:fs";
import { canBind } from "../../src/runtime/local/ports.ts";

/** The kernel's ephemeral port range ([32768, 60999] when it cannot be read). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // not Linux, or no /proc: assume the default
  }
  return [32768, 60999];
}

/** Where to pick from: below the ephemeral range, else above it, else (no room) anywhere unprivileged. */
function pickRange(): [number, number] {
  const [low, high] = ephemeralRange();
  if (low - 100 > 10000 + 1000) return [10000, low - 100];
  if (high + 100 < 65535 - 1000) return [high + 100, 65535];
  return [10000, 65535];
}

const [LOWEST, HIGHEST] = pickRange();

/**
 * Ports this process handed out. A caller binds its port later (a process it starts, a config it
 * writes), so a second draw before that bind found the first one still free: the three members of
 * a test etcd cluster (two ports each, all drawn before the first starts) overlapped in 1 start in
 * 2,500, and seven suites start one.
 */
const handedOut = new Set<number>();

/** A free loopback port outside the ephemeral range, with `span - 1` more free ports above it. */
export async function unusedPort(span = 1): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST - span));
    let free = true;
    for (let p = port; p < port + span && free; p++) free = !handedOut.has(p) && (await canBind(p));
    if (free) {
      for (let p = port; p < port + span; p++) handedOut.add(p);
      return port;
    }
  }
  throw new Error(`no free loopback port between ${LOWEST} and ${HIGHEST}`);
}
