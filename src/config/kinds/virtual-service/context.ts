// What every part of a VirtualService validation needs to know about the whole resource.
import type { Validator } from "../../validator.ts";

export interface VsContext {
  v: Validator;
  namespace: string;
  hosts: string[];
  gateways: string[];
  /** No hosts: a delegate VirtualService, referenced from a root's `delegate`. */
  isDelegate: boolean;
  /** Bound only to gateways (not to `mesh`). */
  appliesToGateway: boolean;
}

/** Istio's host.Name wildcard semantics. */
function isWild(h: string): boolean {
  return h.startsWith("*");
}

/** Whether two hosts overlap (Istio's host.Name.Matches): `*.foo.bar` and `*.bar` do. */
export function hostsOverlap(a: string, b: string): boolean {
  if (isWild(a) && isWild(b)) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (isWild(a)) return b.endsWith(a.slice(1));
  if (isWild(b)) return a.endsWith(b.slice(1));
  return a === b;
}

/** Whether every name `h` covers is covered by `of` (Istio's host.Name.SubsetOf). */
export function hostSubsetOf(h: string, of: string): boolean {
  if (isWild(h)) return isWild(of) && h.slice(1).endsWith(of.slice(1));
  if (isWild(of)) return h.endsWith(of.slice(1));
  return h === of;
}
