// What the control plane knows about one proxy's sync: what it last sent (version, nonce, hash of
// the config) and what the proxy last said about it. `syncState` turns that into the status the
// CLI and dashboard show: NOT SENT → STALE (sent, no answer yet) → SYNCED (ACKed) or NACK (the
// proxy rejected a push and kept its last good config; it stays NACK until a later push is ACKed).
import type { ProxyConfig } from "../../model/proxy-config.ts";
import type { ResourceType } from "../../model/resources.ts";
import type { AckMessage, SyncState, TypeStatus } from "../../model/wire.ts";

export interface ProxyState {
  node: string;
  connected: boolean;
  sentVersion: string | null;
  sentNonce: string | null;
  /** Hash of the last sent config without its version: equal hash = nothing to push. */
  sentHash: string | null;
  sentConfig: ProxyConfig | null;
  ackedVersion: string | null;
  ackedNonce: string | null;
  /** Set by a NACK, cleared by the next ACK. */
  nackError: string | null;
  nackVersion: string | null;
  /** Monotonic clock ms of the last message from or to the proxy. */
  lastSeen: number;
  /** The current stream takes delta push (it asked with `delta=1`). */
  delta: boolean;
  /** Nothing sent on the current stream yet: its first delta carries the full state. */
  needsFull: boolean;
  /** Delta push: per type, what was sent and what the proxy ACKed. */
  types: Map<ResourceType, TypeStatus>;
}

export function newProxyState(node: string, now: number): ProxyState {
  return { node, connected: false, sentVersion: null, sentNonce: null, sentHash: null, sentConfig: null, ackedVersion: null, ackedNonce: null, nackError: null, nackVersion: null, lastSeen: now, delta: false, needsFull: true, types: new Map() };
}

export function syncState(s: ProxyState): SyncState {
  if (s.sentNonce === null) return "NOT SENT";
  if (s.nackError !== null) return "NACK";
  return s.ackedNonce === s.sentNonce ? "SYNCED" : "STALE";
}

/**
 * Apply a proxy's verdict. Only the nonce of the latest push counts: an answer to an older push
 * (crossed on the wire with a newer one) is ignored, as xDS does. Returns whether it counted.
 */
export function recordAck(s: ProxyState, ack: AckMessage, now: number): boolean {
  s.lastSeen = now;
  if (ack.nonce !== s.sentNonce) return false;
  if (ack.accepted) {
    s.ackedVersion = ack.version;
    s.ackedNonce = ack.nonce;
    s.nackError = null;
    s.nackVersion = null;
    // Messages apply in order, so an ACK of the latest one covers every type sent before it.
    for (const t of s.types.values()) t.ackedVersion = t.sentVersion;
  } else {
    s.nackError = ack.error || "rejected (no reason given)";
    s.nackVersion = ack.version;
  }
  return true;
}
