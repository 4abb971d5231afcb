// Ports for tests that must name a port before something binds it (a sidecar's listener, an
// `amime up` port base, an address with nothing behind it). They come from below the kernel's
// ephemeral range: a port from "bind 0, then close" lies inside that range, and any outgoing
// connection made meanwhile (a proxy's stream to the control plane) may take it as its source
// port, so the later bind fails with EADDRINUSE.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const LOWEST = 10000;

/** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : 32768;
  } catch {
    return 32768;
  }
}

const HIGHEST = ephemeralLow() - 100;

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A free loopback port outside the ephemeral range, with `span - 1` more free ports above it. */
export async function unusedPort(span = 1): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST - span));
    let free = true;
    for (let p = port; p < port + span && free; p++) free = await canBind(p);
    if (free) return port;
  }
  throw new Error(`no free loopback port between ${LOWEST} and ${HIGHEST}`);
}
