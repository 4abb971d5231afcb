// Loading the rooms of ./rooms.ts: before a config that uses one is checked and applied (the
// Sidecar awaits loadRoomsFor; a chunk that cannot be loaded rejects the config like bad config),
// or for HTTP/2 on the first connection that speaks it (http2/door.ts calls the loader set here).
// Once loaded, each room is registered where the request path finds it synchronously.
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { registerLazyHttpFilters, usesLazyHttpFilters } from "../http/filters/registry.ts";
import { needsH2Room, setH2Room, setH2RoomLoader } from "../http2/door.ts";
import { registerLazyNetworkFilters, usesLazyNetworkFilters } from "../tcp/filters/registry.ts";
import type * as RoomsModule from "./rooms.ts";

type Rooms = typeof RoomsModule;

let loading: Promise<void> | undefined;

/** Register the rooms (the chunk's module; tests import it directly). */
export function registerRooms(rooms: Rooms): void {
  registerLazyHttpFilters(rooms.HTTP_FILTERS, rooms.checkRouteRateLimits);
  registerLazyNetworkFilters(rooms.NETWORK_FILTERS);
  setH2Room({ H1Stream: rooms.H1Stream, H2Downstream: rooms.H2Downstream, H2Forwarder: rooms.H2Forwarder });
}

/** Load and register the rooms once (a failed load is tried again by the next caller). */
export function loadRooms(): Promise<void> {
  loading ??= import("./rooms.ts").then(registerRooms, (e: unknown) => {
    loading = undefined;
    throw new Error(`the proxy's code for it could not be loaded (${(e as Error).message})`);
  });
  return loading;
}

/** Load the rooms if `config` uses one (throws Error naming what needed them). */
export async function loadRoomsFor(config: ProxyConfig): Promise<void> {
  const user = usesLazyHttpFilters(config) ?? usesLazyNetworkFilters(config) ?? (needsH2Room(config) ? "clusters: HTTP/2" : undefined);
  if (user === undefined) return;
  try {
    await loadRooms();
  } catch (e) {
    throw new Error(`${user}: ${(e as Error).message}`);
  }
}

// The first HTTP/2 connection of a process that has not loaded the rooms loads them (http2/door.ts).
setH2RoomLoader(loadRooms);
