// The attributes a Telemetry expression may read: Envoy's attribute names (request.*, response.*,
// source.address, upstream.address, xds.*, connection.mtls) and Istio's workload names
// (source.workload.name…). `hop` attributes are fixed by what a metric series already keys on
// (status, flags, peers, cluster); `request` ones vary with each request (headers, path…), so a
// tag override that reads one makes its value part of the series key.

export type CelType = "string" | "int" | "bool";

export interface AttributeInfo {
  readonly id: number;
  readonly type: CelType;
  readonly scope: "hop" | "request";
}

const LIST: readonly [string, CelType, "hop" | "request"][] = [
  ["request.host", "string", "request"],
  ["request.method", "string", "request"],
  ["request.path", "string", "request"],
  ["request.url_path", "string", "request"],
  ["request.id", "string", "request"],
  ["request.useragent", "string", "request"],
  ["request.size", "int", "request"],
  ["response.code", "int", "hop"],
  ["response.grpc_status", "int", "hop"],
  ["response.size", "int", "request"],
  ["source.address", "string", "request"],
  ["source.principal", "string", "hop"],
  ["source.workload.name", "string", "hop"],
  ["source.workload.namespace", "string", "hop"],
  ["destination.principal", "string", "hop"],
  ["destination.workload.name", "string", "hop"],
  ["destination.workload.namespace", "string", "hop"],
  ["upstream.address", "string", "request"],
  ["xds.cluster_name", "string", "hop"],
  ["xds.route_name", "string", "request"],
  ["connection.mtls", "bool", "hop"],
];

/** Attribute ids, stable within a process: CelAttributes.get switches on them. */
export const ATTR = Object.freeze({
  requestHost: 0,
  requestMethod: 1,
  requestPath: 2,
  requestUrlPath: 3,
  requestId: 4,
  requestUserAgent: 5,
  requestSize: 6,
  responseCode: 7,
  responseGrpcStatus: 8,
  responseSize: 9,
  sourceAddress: 10,
  sourcePrincipal: 11,
  sourceWorkload: 12,
  sourceNamespace: 13,
  destinationPrincipal: 14,
  destinationWorkload: 15,
  destinationNamespace: 16,
  upstreamAddress: 17,
  clusterName: 18,
  routeName: 19,
  mtls: 20,
});

export const ATTRIBUTES: ReadonlyMap<string, AttributeInfo> = new Map(LIST.map(([name, type, scope], id) => [name, { id, type, scope }]));

/** The map attribute `request.headers['name']` (a request-scoped string, names matched lowercase). */
export const HEADER_MAP = "request.headers";

/** What an expression reads when evaluated: undefined is "absent" (a CEL error, absorbed by `||` and `&&`). */
export interface CelAttributes {
  get(id: number): string | number | boolean | undefined;
  header(name: string): string | undefined;
}
