// The door to the HTTP/2 room: a sidecar whose config and connections speak only HTTP/1.1 never
// loads it (issue 15: its source and what evaluating it keeps stay out of the process). The
// room's classes are a lazy chunk (src/proxy/rooms/), set here once loaded: before a config with
// an HTTP/2 upstream is applied, or by the first connection that speaks HTTP/2 (which waits for
// it). The request path reads `h2Room()` and never awaits.
import type { ProxyConfig } from "../../model/proxy-config.ts";
import type { H1Stream } from "./h1-stream.ts";
import type { H2Downstream } from "./h2-downstream.ts";
import type { H2Forwarder } from "./h2-forwarder.ts";

export interface H2Room {
  readonly H1Stream: typeof H1Stream;
  readonly H2Downstream: typeof H2Downstream;
  readonly H2Forwarder: typeof H2Forwarder;
}

let room: H2Room | undefined;
let loader: (() => Promise<void>) | undefined;

/** The room, if loaded. */
export function h2Room(): H2Room | undefined {
  return room;
}

export function setH2Room(r: H2Room): void {
  room = r;
}

/** What loads the room (it calls setH2Room): src/proxy/rooms/load.ts. */
export function setH2RoomLoader(load: () => Promise<void>): void {
  loader = load;
}

/** The room, loaded if it is not yet. */
export async function loadH2Room(): Promise<H2Room> {
  if (room === undefined) {
    if (loader === undefined) throw new Error("no loader for the HTTP/2 code");
    await loader();
  }
  if (room === undefined) throw new Error("the HTTP/2 code was not registered");
  return room;
}

/** A cluster of `config` speaks HTTP/2 to its upstream (forwardH1 then needs the room). */
export function needsH2Room(config: ProxyConfig): boolean {
  return config.clusters.some((c) => c.protocol === "http2");
}
