// RequestView: the few facts about a downstream request the router needs. The proxy engine adapts
// its parsed head to this shape, so routing stays independent of the HTTP codec (and of HTTP/1.1
// vs HTTP/2) and can be driven by `amime explain` with a hand-made request.

export interface RequestView {
  /** Request method as sent (case-sensitive, e.g. `GET`). */
  method: string;
  /** Origin-form request target including the query string, e.g. `/reviews/1?x=y`. */
  path: string;
  /** Host header / :authority as sent (may include a port; may be mixed case). */
  authority: string;
  scheme: "http" | "https";
  /** Destination port the request was sent to (the listener / original destination port). */
  port: number;
  /** Header value by lowercase name; repeated headers joined with `,`; undefined when absent. */
  header(name: string): string | undefined;
  /** Downstream peer address, for `%DOWNSTREAM_REMOTE_ADDRESS%` in header values. */
  sourceIp: string;
  /**
   * What the request's filters found (the proxy's requests); JWT claim matchers read the verified
   * tokens under JWT_METADATA. Absent or null for a hand-made request.
   */
  readonly metadata?: ReadonlyMap<string, unknown> | null;
}

/** x.metadata key of the request's verified JWTs (jwt_authn), each with its `payload`. */
export const JWT_METADATA = "jwt_authn";

/** A RequestView over plain values (tests, `amime explain`). Header names are lowercased. */
export function requestView(init: {
  method?: string;
  path?: string;
  authority: string;
  scheme?: "http" | "https";
  port?: number;
  headers?: Record<string, string | string[]>;
  sourceIp?: string;
  /** A verified JWT's claims, as jwt_authn would leave them (claim routing). */
  jwtPayload?: Record<string, unknown>;
}): RequestView {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(init.headers ?? {})) {
    headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(",") : value);
  }
  return {
    method: init.method ?? "GET",
    path: init.path ?? "/",
    authority: init.authority,
    scheme: init.scheme ?? "http",
    port: init.port ?? 80,
    header: (name) => headers.get(name),
    sourceIp: init.sourceIp ?? "127.0.0.1",
    metadata: init.jwtPayload === undefined ? null : new Map([[JWT_METADATA, [{ payload: init.jwtPayload }]]]),
  };
}
