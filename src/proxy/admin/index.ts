// Off the request path: the admin listener on 127.0.0.1 (config dump, clusters, ready, stats, drain).
export { AdminServer } from "./admin-server.ts";
export { clustersJson, statsText } from "./admin-views.ts";
export { StatusServer } from "./status-server.ts";
