// Stage: upstream. Clusters (ClusterManager: host sets, balancers, outlier state, stats) and the
// connections to their endpoints (EndpointPool → UpstreamConnection, one exchange at a time).
export { ClusterManager, ClusterState } from "./cluster-manager.ts";
export { EndpointPool } from "./endpoint-pool.ts";
export { UpstreamConnection } from "./upstream-connection.ts";
export type { UpstreamErrorKind, UpstreamSink } from "./upstream-connection.ts";
export { ClusterStats, DownstreamStats } from "./cluster-stats.ts";
