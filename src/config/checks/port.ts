// Port numbers.
import type { FieldPath } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { readInt, UINT32 } from "./shape.ts";

/** Istio's ValidatePort text. */
export function portError(port: number): string | null {
  return port >= 1 && port <= 65535 ? null : `port number ${port} must be in the range 1..65535`;
}

/** Read a port number (uint32 on the wire) and check it is 1..65535. */
export function checkPort(v: Validator, path: FieldPath, x: unknown): number | undefined {
  if (typeof x === "number" && Number.isInteger(x) && x < 0) {
    v.error(path, portError(x) ?? "");
    return undefined;
  }
  const n = readInt(v, path, x, UINT32);
  if (n === undefined) return undefined;
  const err = portError(n);
  if (err) {
    v.error(path, err);
    return undefined;
  }
  return n;
}
