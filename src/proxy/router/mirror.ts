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
 * Envoy's shadowAppendedHost: `reviews:9080` → `reviews-shadow:9080`, `reviews` → `reviews-shadow`.
 * IP literals get the suffix at the very end, as in Envoy.
 */
export function shadowAuthority(authority: string): string {
  const isIpv6 = authority.startsWith("[");
  const colon = isIpv6 ? -1 : authority.lastIndexOf(":");
  const host = colon === -1 ? authority : authority.slice(0, colon);
  if (colon === -1 || /^\d+(\.\d+){3}$/.test(host)) return `${authority}-shadow`;
  return `${host}-shadow${authority.slice(colon)}`;
}
