// Errors the router raises while compiling a RouteConfiguration (layer: proxy/router). Matching a
// request never throws: a bad request simply matches nothing.

export type RouterErrorCode = "ROUTER_BAD_REGEX" | "ROUTER_BAD_MATCH";

export class RouterError extends Error {
  readonly code: RouterErrorCode;

  constructor(code: RouterErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "RouterError";
    this.code = code;
  }
}
