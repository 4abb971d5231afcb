// A proxy class's outbound part kept across snapshots. Its routes read the snapshot's Istio
// resources, its services and the mesh settings, never its workload instances; its clusters and
// endpoints read the instances only through each service's backing instances. Every registration
// makes a new snapshot (an instance more or less), and each class was translated again: most of
// the preparation of each sidecar `amime up` starts in a 1,000-service mesh (docs/performance.md,
// "Session 12: the pushed 1,000-service start"). A snapshot whose inputs
// other than the instances are those of the snapshot a class was last translated from gets the
// same route configuration object back (reusedRoutes), and the same clusters and endpoint lists
// for each service whose backing instances are equal (clusters.ts), so the push finds their JSON
// and versions cached by identity too. The inputs are compared conservatively: every resource
// entry of every kind by identity (the snapshot shares an unchanged resource's entry,
// model/snapshot.ts), the services and the mesh settings by content. Bounded by the number of
// classes, like translate/index.ts's sets.
import type { RouteConfiguration } from "../../model/proxy-config.ts";
import { jsonEqual } from "../../model/json-equal.ts";
import type { Snapshot } from "../../model/snapshot.ts";

/** What a class's outbound part reads from a snapshot, but the instances (and the version). */
export interface ClassInputs {
  readonly lists: readonly (readonly object[])[];
  readonly services: readonly unknown[];
  readonly mesh: unknown;
}

const inputsOf = new WeakMap<Snapshot, ClassInputs>();
/** The inputs last found equal to a given one (each class compares the same pair). */
const equalTo = new WeakMap<ClassInputs, ClassInputs>();
const latest = new Map<string, { inputs: ClassInputs; routes: RouteConfiguration }>();
const forgetters: (() => void)[] = [];

/** The snapshot's inputs (no copy: its own lists; made once per snapshot). */
export function classInputs(s: Snapshot): ClassInputs {
  let i = inputsOf.get(s);
  if (i === undefined) {
    const lists = [s.virtualServices, s.destinationRules, s.gateways, s.sidecars, s.serviceEntries, s.workloadEntries, s.peerAuthentications, s.requestAuthentications, s.authorizationPolicies, s.telemetries, s.envoyFilters, s.rateLimits];
    i = { lists, services: s.services, mesh: s.mesh };
    inputsOf.set(s, i);
  }
  return i;
}

/** Entries by identity, services and mesh settings by content; only compared when a class was translated before. */
export function sameClassInputs(a: ClassInputs, b: ClassInputs): boolean {
  if (a === b || equalTo.get(b) === a) return true;
  for (let k = 0; k < a.lists.length; k++) {
    const x = a.lists[k]!;
    const y = b.lists[k]!;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  if (!jsonEqual(a.services, b.services) || !jsonEqual(a.mesh, b.mesh)) return false;
  equalTo.set(b, a);
  return true;
}

/** The class's route configuration in `snapshot`: the last one built for the class if its inputs are the same, else `build()`. */
export function reusedRoutes(snapshot: Snapshot, cls: string, build: () => RouteConfiguration): RouteConfiguration {
  const inputs = classInputs(snapshot);
  const last = latest.get(cls);
  if (last !== undefined && sameClassInputs(last.inputs, inputs)) return last.routes;
  const routes = build();
  latest.set(cls, { inputs, routes });
  return routes;
}

/** A cache kept per class elsewhere (clusters.ts) that forgetReused() clears too. */
export function onForget(forget: () => void): void {
  forgetters.push(forget);
}

/** Forget what every class kept (tests: the uncached translation to compare a cached one with). */
export function forgetReused(): void {
  latest.clear();
  for (const f of forgetters) f();
}
