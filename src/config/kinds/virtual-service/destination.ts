// Destinations and weighted route destinations.
import { checkKnownFields } from "../../checks/fields.ts";
import { checkHeaderOperations } from "../../checks/headers.ts";
import { wildcardDomainError, isDns1123Label } from "../../checks/host.ts";
import { portError } from "../../checks/port.ts";
import { readArray, readInt, readObject, readString, UINT32 } from "../../checks/shape.ts";
import type { FieldPath } from "../../../model/resource.ts";
import type { Destination } from "../../../model/specs/networking.ts";
import type { Validator } from "../../validator.ts";

export function subsetNameError(name: string): string | null {
  if (name === "") return "subset name cannot be empty";
  if (!isDns1123Label(name)) return `subset name is invalid: ${name}`;
  return null;
}

/** `{host, subset, port: {number}}` */
export function checkDestination(v: Validator, path: FieldPath, x: unknown): Destination | undefined {
  const obj = readObject(v, path, x);
  if (!obj) return undefined;
  checkKnownFields(v, path, obj, ["host", "subset", "port"]);
  const host = readString(v, [...path, "host"], obj.host) ?? "";
  const hostErr = host === "*" ? `invalid destination host ${host}` : wildcardDomainError(host);
  if (hostErr) v.error([...path, "host"], hostErr);
  const out: Destination = { host };
  const subset = readString(v, [...path, "subset"], obj.subset);
  if (subset !== undefined && subset !== "") {
    const err = subsetNameError(subset);
    if (err) v.error([...path, "subset"], err);
    out.subset = subset;
  }
  const port = readObject(v, [...path, "port"], obj.port);
  if (port) {
    checkKnownFields(v, [...path, "port"], port, ["number"]);
    const n = readInt(v, [...path, "port", "number"], port.number ?? 0, UINT32);
    if (n !== undefined) {
      const err = portError(n);
      if (err) v.error([...path, "port", "number"], err);
      out.port = { number: n };
    }
  }
  return out;
}

/**
 * `route:` of HTTP (with headers), TCP and TLS routes. Weights are relative: they need not sum to
 * 100, but must not be negative and not all 0 when there are several destinations.
 */
export function checkRouteDestinations(v: Validator, path: FieldPath, x: unknown, http: boolean): number {
  const list = readArray(v, path, x);
  if (!list) return 0;
  let total = 0;
  list.forEach((item, i) => {
    const at = [...path, i];
    if (item === null) {
      v.error(at, "weight may not be nil");
      return;
    }
    const obj = readObject(v, at, item);
    if (!obj) return;
    checkKnownFields(v, at, obj, http ? ["destination", "weight", "headers"] : ["destination", "weight"]);
    if (obj.destination === undefined || obj.destination === null) v.error([...at, "destination"], "destination is required");
    else checkDestination(v, [...at, "destination"], obj.destination);
    if (http) checkHeaderOperations(v, [...at, "headers"], obj.headers);
    const w = readInt(v, [...at, "weight"], obj.weight);
    if (w !== undefined) {
      if (w < 0) v.error([...at, "weight"], `weight ${w} < 0`);
      total += w;
    }
  });
  if (list.length > 1 && total === 0) v.error(path, "total destination weight = 0");
  return list.length;
}
