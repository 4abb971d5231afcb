// Where a VirtualService sends traffic: every route and mirror destination, with its field path,
// grouped by the rule (route list) it belongs to so checks can look at a weighted split as a whole.
import type { FieldPath, JsonObject, Resource } from "../../model/resource.ts";
import { arr, num, obj, specOf, str } from "./json.ts";

export interface DestinationRef {
  /** Path of the `destination` object (or of `mirror`). */
  path: FieldPath;
  host?: string;
  subset?: string;
  port?: number;
  /** "route" for a route destination, "mirror" for mirror / mirrors[]. */
  role: "route" | "mirror";
  /** The destination's weight (route destinations only; absent = 0 as Istio reads it). */
  weight?: number;
}

export interface RouteGroup {
  /** Path of the route list, e.g. spec.http[0].route. */
  path: FieldPath;
  destinations: DestinationRef[];
}

const PROTOCOLS = ["http", "tcp", "tls"] as const;

/** The route lists (weighted splits) of a VirtualService. */
export function routeGroupsOf(vs: Resource): RouteGroup[] {
  const spec = specOf(vs.body);
  const groups: RouteGroup[] = [];
  for (const proto of PROTOCOLS) {
    arr(spec[proto]).forEach((rule, i) => {
      const route = obj(rule)?.route;
      if (!Array.isArray(route)) return;
      const path = ["spec", proto, i, "route"];
      const destinations: DestinationRef[] = [];
      route.forEach((rd, j) => {
        const o = obj(rd);
        const d = obj(o?.destination);
        if (!o || !d) return;
        destinations.push({ ...readDestination(d, [...path, j, "destination"], "route"), weight: num(o.weight) });
      });
      groups.push({ path, destinations });
    });
  }
  return groups;
}

/** Every destination of a VirtualService: route destinations, `mirror` and `mirrors[].destination`. */
export function destinationsOf(vs: Resource): DestinationRef[] {
  const out = routeGroupsOf(vs).flatMap((g) => g.destinations);
  arr(specOf(vs.body).http).forEach((rule, i) => {
    const r = obj(rule);
    if (!r) return;
    const mirror = obj(r.mirror);
    if (mirror) out.push(readDestination(mirror, ["spec", "http", i, "mirror"], "mirror"));
    arr(r.mirrors).forEach((m, k) => {
      const d = obj(obj(m)?.destination);
      if (d) out.push(readDestination(d, ["spec", "http", i, "mirrors", k, "destination"], "mirror"));
    });
  });
  return out;
}

function readDestination(d: JsonObject, path: FieldPath, role: DestinationRef["role"]): DestinationRef {
  return { path, role, host: str(d.host), subset: str(d.subset), port: num(obj(d.port)?.number) };
}
