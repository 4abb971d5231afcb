// TLS routes by SNI on tcp listeners (Envoy's tls_inspector + filter chain match on
// server_names): read the client's first bytes until the ClientHello's server name is known,
// pick the route, hand the bytes read on. Nothing is decrypted: the upstream terminates TLS.
import type { Socket } from "node:net";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { SniRoute } from "../../model/proxy-config.ts";
import { parseClientHelloSni, serverNameMatches } from "../tls/sni.ts";

/** How long to wait for a ClientHello (Envoy's listener_filters_timeout is 15 s). */
export const SNI_PEEK_TIMEOUT_MS = 15_000;

/**
 * Read until the server name is known (undefined: no SNI, not TLS, or nothing in time), then
 * call `done` with the bytes read (the socket is paused). `gone` if the client leaves first.
 */
export function peekServerName(down: Socket, clock: Clock, head: Buffer | undefined, done: (name: string | undefined, read: Buffer | undefined) => void, gone: () => void): void {
  let buf = head !== undefined && head.length > 0 ? head : undefined;
  let timer: TimerHandle | null = null;
  const finish = (name: string | undefined): void => {
    timer?.cancel();
    timer = null;
    down.off("data", onData);
    down.off("close", onClose);
    down.off("end", onEnd);
    down.off("error", onError);
    down.pause();
    done(name, buf);
  };
  const decide = (): boolean => {
    if (buf === undefined) return false;
    const r = parseClientHelloSni(buf);
    if (r.kind === "more") return false;
    finish(r.kind === "sni" ? r.name : undefined);
    return true;
  };
  const onData = (d: Buffer): void => {
    buf = buf === undefined ? d : Buffer.concat([buf, d]);
    decide();
  };
  const onClose = (): void => {
    timer?.cancel();
    down.off("data", onData);
    down.off("error", onError);
    gone();
  };
  // A reset while peeking must not become an uncaught 'error': 'close' follows and cleans up.
  const onError = (): void => undefined;
  // A client that half-closes before finishing its hello will send no more: route what we have.
  const onEnd = (): void => finish(undefined);
  if (decide()) return;
  down.on("data", onData);
  down.on("error", onError);
  down.once("close", onClose);
  down.once("end", onEnd);
  timer = clock.setTimeout(() => finish(undefined), SNI_PEEK_TIMEOUT_MS);
}

/** The first route with a server name matching `name` (undefined: no SNI, only `*` matches). */
export function pickSniRoute(routes: readonly SniRoute[], name: string | undefined): SniRoute | undefined {
  for (const r of routes) if (r.serverNames.some((p) => serverNameMatches(p, name))) return r;
  return undefined;
}
