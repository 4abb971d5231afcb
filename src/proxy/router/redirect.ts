// Redirect responses (Istio HTTPRedirect → Envoy RedirectAction; Location built as Envoy's
// Http::Utility::newUri).

import type { RedirectAction, RouteMatch } from "../../model/proxy-config.ts";
import type { RequestView } from "./request-view.ts";
import { replacePrefix } from "./rewrite.ts";

/** Istio's default redirectCode. */
export const DEFAULT_REDIRECT_CODE = 301;

export function redirectStatus(redirect: RedirectAction): number {
  return redirect.code || DEFAULT_REDIRECT_CODE;
}

/**
 * The Location for a redirect:
 * - scheme: `redirect.scheme`, else the request's.
 * - host: `redirect.authority`, else the request's authority, whose port is kept unless a new
 *   port is set, or the scheme changes and the port was the old scheme's default (Envoy).
 * - port: `redirect.port`; derivePort FROM_REQUEST_PORT uses the port the request was sent to;
 *   FROM_PROTOCOL_DEFAULT omits the port (the client uses 80/443).
 * - path: `redirect.uri` replaces the whole path (the request's query is kept unless the uri has
 *   its own); `prefixRewrite` replaces the matched prefix; otherwise the path is unchanged.
 */
export function redirectLocation(request: RequestView, match: RouteMatch, redirect: RedirectAction): string {
  const scheme = redirect.scheme !== undefined && redirect.scheme !== "" ? redirect.scheme.toLowerCase() : request.scheme;

  let port = "";
  let dropRequestPort = false;
  if (redirect.port !== undefined && redirect.port > 0) {
    port = `:${redirect.port}`;
    dropRequestPort = true;
  } else if (redirect.derivePort === "FROM_REQUEST_PORT") {
    port = `:${request.port}`;
    dropRequestPort = true;
  } else if (redirect.derivePort === "FROM_PROTOCOL_DEFAULT") {
    dropRequestPort = true;
  }

  let host: string;
  if (redirect.authority !== undefined && redirect.authority !== "") {
    host = redirect.authority;
  } else {
    host = request.authority;
    const colon = portColon(host);
    if (colon !== -1) {
      const requestPort = host.slice(colon);
      const schemeDefault = (request.scheme === "https" && requestPort === ":443") || (request.scheme === "http" && requestPort === ":80");
      if (dropRequestPort || (scheme !== request.scheme && schemeDefault)) host = host.slice(0, colon);
    }
  }

  let path: string;
  if (redirect.uri !== undefined && redirect.uri !== "") {
    const q = request.path.indexOf("?");
    path = redirect.uri.includes("?") || q === -1 ? redirect.uri : redirect.uri + request.path.slice(q);
  } else if (redirect.prefixRewrite !== undefined) {
    path = replacePrefix(request.path, match, redirect.prefixRewrite);
  } else {
    path = request.path;
  }
  if (!path.startsWith("/")) path = "/" + path;

  return `${scheme}://${host}${port}${path}`;
}

/** Index of the `:` before a numeric port in `host:port` / `[v6]:port`, or -1. */
function portColon(authority: string): number {
  const colon = authority.lastIndexOf(":");
  if (colon === -1) return -1;
  if (authority.startsWith("[") && authority.lastIndexOf("]") > colon) return -1;
  if (!authority.startsWith("[") && authority.indexOf(":") !== colon) return -1;
  return /^\d+$/.test(authority.slice(colon + 1)) ? colon : -1;
}
