// x-request-id values in Envoy's shape (a UUID v4). randomUUID draws from a cached entropy pool,
// so one id costs well under a microsecond: cheap enough for every request that lacks one.
import { randomUUID } from "node:crypto";

export function newRequestId(): string {
  return randomUUID();
}
