// Per-request scratch state for route matching: the path without its query and the query
// parameters, both computed lazily and only when some route asks for them. One MatchContext is
// reused for every request a RouteTable matches (matching is synchronous), so the common path
// allocates nothing.

import type { RequestView } from "./request-view.ts";

export class MatchContext {
  request: RequestView | undefined = undefined;
  #uriPath: string | undefined = undefined;
  #queryParsed = false;
  readonly #query = new Map<string, string>();

  reset(request: RequestView | undefined): void {
    this.request = request;
    this.#uriPath = undefined;
    if (this.#queryParsed) {
      this.#query.clear();
      this.#queryParsed = false;
    }
  }

  get req(): RequestView {
    // Conditions only run between reset(request) and reset(undefined).
    return this.request as RequestView;
  }

  /** The path without `?query` (what uri matches look at, as Envoy's path matchers). */
  uriPath(): string {
    if (this.#uriPath === undefined) this.#uriPath = pathWithoutQuery(this.req.path);
    return this.#uriPath;
  }

  /** First value of a query parameter, undecoded as in Envoy; `?key` alone gives "". */
  queryParam(name: string): string | undefined {
    if (!this.#queryParsed) {
      parseQueryInto(this.req.path, this.#query);
      this.#queryParsed = true;
    }
    return this.#query.get(name);
  }
}

export function pathWithoutQuery(path: string): string {
  const q = path.indexOf("?");
  return q === -1 ? path : path.slice(0, q);
}

/** Splits `a=1&b&c=` into the map, first occurrence of a name wins; stops at a `#` fragment. */
export function parseQueryInto(path: string, into: Map<string, string>): void {
  const q = path.indexOf("?");
  if (q === -1) return;
  let end = path.indexOf("#", q + 1);
  if (end === -1) end = path.length;
  let start = q + 1;
  while (start <= end) {
    let amp = path.indexOf("&", start);
    if (amp === -1 || amp > end) amp = end;
    if (amp > start) {
      const eq = path.indexOf("=", start);
      const hasValue = eq !== -1 && eq < amp;
      const name = path.slice(start, hasValue ? eq : amp);
      if (!into.has(name)) into.set(name, hasValue ? path.slice(eq + 1, amp) : "");
    }
    start = amp + 1;
  }
}
