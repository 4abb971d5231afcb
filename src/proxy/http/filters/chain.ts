// The chain runner: runs a request's HTTP filters in order, for HTTP/1.1 and HTTP/2 alike. A filter
// returns CONTINUE (next one) or STOP (it answered, handed the request upstream, or suspended it:
// a suspended filter calls resumeChain when its check is done). The cursor lives on the request,
// so running and resuming allocate nothing.
import { STOP, type FilterChain, type FilterSlot, type RequestContext } from "../../request/context.ts";

/** Start the request's filters from the first. */
export function runChain(x: RequestContext, chain: FilterChain): void {
  x.filterChain = chain;
  x.filterIndex = 0;
  resumeChain(x);
}

/** Run the filters after the one that stopped last (called by a filter that suspended the request). */
export function resumeChain(x: RequestContext): void {
  try {
    const chain = x.filterChain;
    while (x.filterIndex < chain.length) {
      if (x.finished) return;
      const slot = chain[x.filterIndex++] as FilterSlot;
      if (slot.filter.onRequest(x, routeConfig(x, slot)) === STOP) return;
    }
    // Every list ends with the router (config check), which always stops: not reached.
    if (!x.finished) x.reply(500, 0, "internal proxy error\n");
  } catch {
    // A bug in a filter must cost this request, never the process (and every other request).
    x.proxy.downstream.downstream_rq_internal_error++;
    if (!x.finished) x.reply(500, 0, "internal proxy error\n");
  }
}

/** The route's override of the filter's config (Envoy's typed_per_filter_config), else the listener's. */
function routeConfig(x: RequestContext, slot: FilterSlot): unknown {
  const overrides = x.route?.filterConfig;
  if (overrides === undefined) return slot.config;
  const o = overrides[slot.filter.name];
  return o === undefined ? slot.config : o;
}
