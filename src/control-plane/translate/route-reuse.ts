// A proxy class's outbound route configuration kept across snapshots. The routes read the
// snapshot's Istio resources, its services and the mesh settings, never its workload instances,
// but every registration makes a new snapshot (an instance more or less) and each class's routes
// were translated again: half of a class's translation in a 1,000-service mesh, for each sidecar
// `amime up` starts. A snapshot whose route inputs are those of the snapshot a class's routes were
// last built from gets the very same object, so the push finds its JSON and version cached by
// identity too. The inputs are compared conservatively: every resource entry of every kind by
// identity (the snapshot shares an unchanged resource's entry, model/snapshot.ts), the services
// and the mesh settings by content. Bounded by the number of classes, like translate/index.ts's sets.
import type { RouteConfiguration } from "../../model/proxy-config.ts";
import type { Snapshot } from "../../model/snapshot.ts";

interface RouteInputs {
  entries: readonly object[];
  services: string;
  mesh: string;
}

const inputsOf = new WeakMap<Snapshot, RouteInputs>();
const latest = new Map<string, { inputs: RouteInputs; routes: RouteConfiguration }>();

/** Everything of a snapshot but its instances and version (computed once per snapshot). */
function routeInputs(s: Snapshot): RouteInputs {
  let i = inputsOf.get(s);
  if (i === undefined) {
    const entries = [
      ...s.virtualServices, ...s.destinationRules, ...s.gateways, ...s.sidecars, ...s.serviceEntries, ...s.workloadEntries,
      ...s.peerAuthentications, ...s.requestAuthentications, ...s.authorizationPolicies, ...s.telemetries, ...s.envoyFilters, ...s.rateLimits,
    ];
    i = { entries, services: JSON.stringify(s.services), mesh: JSON.stringify(s.mesh) };
    inputsOf.set(s, i);
  }
  return i;
}

function sameInputs(a: RouteInputs, b: RouteInputs): boolean {
  if (a === b) return true;
  if (a.entries.length !== b.entries.length || a.services !== b.services || a.mesh !== b.mesh) return false;
  for (let k = 0; k < a.entries.length; k++) if (a.entries[k] !== b.entries[k]) return false;
  return true;
}

/** The class's route configuration in `snapshot`: the last one built for the class if its inputs are the same, else `build()`. */
export function reusedRoutes(snapshot: Snapshot, cls: string, build: () => RouteConfiguration): RouteConfiguration {
  const inputs = routeInputs(snapshot);
  const last = latest.get(cls);
  if (last !== undefined && sameInputs(last.inputs, inputs)) return last.routes;
  const routes = build();
  latest.set(cls, { inputs, routes });
  return routes;
}

/** Forget every class's routes (tests: the uncached translation to compare a cached one with). */
export function forgetReusedRoutes(): void {
  latest.clear();
}
