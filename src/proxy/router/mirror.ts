// Traffic mirroring (Envoy request_mirror_policies, Istio mirror/mirrors): each mirror is drawn
// independently with its percentage; mirrored requests are fire-and-forget and carry the
// authority with `-shadow` appended to the host.

import type { Random } from "../../core/random.ts";
import type { MirrorPolicy } from "../../model/proxy-config.ts";
import { percentHit } from "./percentage.ts";

const NONE: readonly string[] = Object.freeze([]);

/** Cluster names to mirror this request to (shared empty array when none). */
export function mirrorDecision(mirrors: readonly MirrorPolicy[], random: Random): readonly string[] {
  if (mirrors.length === 0) return NONE;
  let out: string[] | undefined;
  for (const m of mirrors) {
    if (percentHit(m.percentage, random)) (out ??= []).push(m.cluster);
  }
  return out ?? NONE;
}

/**
 * Envoy's shadowAppendedHost: `-shadow` goes before the port (found as Envoy's
 * HeaderUtility::getPortStart: the last `:` not inside `[v6]`), or at the end when there is none:
 * `reviews:9080` → `reviews-shadow:9080`, `reviews` → `reviews-shadow`, `[::1]:80` → `[::1]-shadow:80`.
 */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(":");
  const v6End = authority.lastIndexOf("]");
  if (colon === -1 || v6End > colon) return `${authority}-shadow`;
  return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}
