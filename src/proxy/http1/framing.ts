// Shared framing values: the body-less and chunked cases are constants, so a parse allocates a
// framing object only for Content-Length.

import type { RequestBodyFraming, ResponseBodyFraming } from "./types.ts";

export const FRAMING_NONE: RequestBodyFraming = Object.freeze({ kind: "none" });
export const FRAMING_CHUNKED: RequestBodyFraming = Object.freeze({ kind: "chunked" });
export const FRAMING_CLOSE: ResponseBodyFraming = Object.freeze({ kind: "close" });
const FRAMING_ZERO: RequestBodyFraming = Object.freeze({ kind: "length", length: 0 });

export function lengthFraming(length: number): RequestBodyFraming {
  return length === 0 ? FRAMING_ZERO : { kind: "length", length };
}
