// What a route matches on (VirtualService `match`): string, header and query parameter matchers.
// Pure data; used by routes (proxy-config/routes.ts) and by the rate-limit descriptors (rate-limit.ts).

export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

export interface HeaderMatcher {
  /** lowercase header name; `:authority`, `:method`, `:path`, `:scheme` are pseudo-headers. */
  name: string;
  /** Absent: the header must be present (any value). */
  match?: StringMatch;
  /** withoutHeaders: the match is negated. */
  invert: boolean;
  /**
   * Gateways: `@request.auth.claims.a.b` matches the claim at this path of the request's verified
   * JWT (jwt_authn), not a header; a list claim matches when one element does. docs/routing.md
   */
  claim?: string[];
}

export interface QueryParamMatcher {
  name: string;
  /** Absent: the parameter must be present. `{exact: ""}` matches `?key` with no value. */
  match?: StringMatch;
}

export interface RouteMatch {
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers: HeaderMatcher[];
  queryParams: QueryParamMatcher[];
  /** Destination port the request was sent to. */
  port?: number;
  /** Applies to exact and prefix uri matches. */
  ignoreUriCase: boolean;
}
