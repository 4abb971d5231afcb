// The request `amime explain` is asked about: a URL (scheme optional), a method and headers, as
// curl would send them, parsed into what the proxy's router sees.

export interface ExplainRequest {
  method: string;
  /** As given on the command line. */
  url: string;
  scheme: "http" | "https";
  authority: string;
  /** Path and query. */
  path: string;
  /** Destination port: the URL's, or 80/443. */
  port: number;
  /** Lowercase names. */
  headers: Record<string, string>;
}

export class ExplainError extends Error {
  readonly code = "AMIME_EXPLAIN";
}

/** `http://reviews:9080/x?y` (scheme optional) plus -X and -H → the request to explain. */
export function parseExplainRequest(url: string, method = "GET", headerArgs: readonly string[] = []): ExplainRequest {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ExplainError(`${JSON.stringify(url)} is not a URL (e.g. http://reviews:9080/reviews/1)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ExplainError(`${JSON.stringify(url)}: only http:// and https:// URLs can be explained`);
  const scheme = parsed.protocol === "https:" ? "https" : "http";
  // The authority exactly as written (URL drops default ports, but the app would send them).
  const afterScheme = text.slice(text.indexOf("//") + 2);
  const end = afterScheme.search(/[/?#]/);
  let authority = end < 0 ? afterScheme : afterScheme.slice(0, end);
  authority = authority.slice(authority.lastIndexOf("@") + 1);
  const headers: Record<string, string> = {};
  for (const h of headerArgs) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new ExplainError(`header ${JSON.stringify(h)} must be "name: value"`);
    const name = h.slice(0, colon).trim().toLowerCase();
    const value = h.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  if (headers.host !== undefined) {
    authority = headers.host;
    delete headers.host;
  }
  return {
    method,
    url,
    scheme,
    authority,
    path: `${parsed.pathname}${parsed.search}`,
    port: parsed.port ? Number(parsed.port) : scheme === "https" ? 443 : 80,
    headers,
  };
}
