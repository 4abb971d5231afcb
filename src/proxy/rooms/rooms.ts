// The proxy's rooms a config names only when it uses them, as one lazy chunk of the sidecar's
// bundle (issue 15): HTTP/2 (downstream and upstream), the HTTP filters beyond cors, fault and
// router (jwt_authn, ext_authz, rbac, local and global rate limit), the network filters beyond
// tcp_proxy. Loaded through ./load.ts only; one chunk, not one per room: each dynamic import
// splits the code it shares with the entry into more files that every sidecar would load at start.
import type { HttpFilter } from "../request/context.ts";
import type { NetworkFilter } from "../tcp/network-filter.ts";
import { extAuthzFilter } from "../http/filters/ext-authz/ext-authz-filter.ts";
import { jwtAuthnFilter } from "../http/filters/jwt-authn/jwt-filter.ts";
import { localRateLimitFilter } from "../http/filters/local-ratelimit/local-ratelimit-filter.ts";
import { globalRateLimitFilter } from "../http/filters/ratelimit/ratelimit-filter.ts";
import { rbacFilter } from "../http/filters/rbac/rbac-filter.ts";
import { extAuthzNetworkFilter } from "../tcp/filters/ext-authz/ext-authz-network-filter.ts";
import { rbacNetworkFilter } from "../tcp/filters/rbac/rbac-network-filter.ts";

export { checkRouteRateLimits } from "../http/filters/ratelimit/check.ts";
export { H1Stream } from "../http2/h1-stream.ts";
export { H2Downstream } from "../http2/h2-downstream.ts";
export { H2Forwarder } from "../http2/h2-forwarder.ts";

export const HTTP_FILTERS: readonly HttpFilter[] = [jwtAuthnFilter, extAuthzFilter, rbacFilter, localRateLimitFilter, globalRateLimitFilter];
export const NETWORK_FILTERS: readonly NetworkFilter[] = [extAuthzNetworkFilter, rbacNetworkFilter];
