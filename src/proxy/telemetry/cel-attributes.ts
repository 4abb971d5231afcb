// The attributes Telemetry expressions read (model/cel/attributes.ts), served from a finished
// request and its hop's metric facts. One instance per hooks object is reused for every
// evaluation (evaluation is synchronous), so an expression costs no allocation of its own; the
// workload and principal attributes build the hop's Istio labels only when an expression asks.
import { ATTR, type CelAttributes } from "../../model/cel/attributes.ts";
import type { ListenerDirection } from "../../model/proxy-config.ts";
import type { TelemetryRequest } from "../request/context.ts";
import { HTTP_LABELS, istioLabels, type HopFacts } from "./metrics/labels.ts";
import { UNKNOWN } from "./peer.ts";

const at = (name: string): number => HTTP_LABELS.indexOf(name);
const LABEL_OF: Readonly<Record<number, number>> = {
  [ATTR.sourceWorkload]: at("source_workload"),
  [ATTR.sourceNamespace]: at("source_workload_namespace"),
  [ATTR.sourcePrincipal]: at("source_principal"),
  [ATTR.destinationWorkload]: at("destination_workload"),
  [ATTR.destinationNamespace]: at("destination_workload_namespace"),
  [ATTR.destinationPrincipal]: at("destination_principal"),
};

export class TelemetryAttributes implements CelAttributes {
  private x: TelemetryRequest | null = null;
  private direction: ListenerDirection = "outbound";
  private grpcStatus = "";
  private facts: (() => HopFacts) | null = null;
  private labels: string[] | null = null;

  /** Points at a request (null for a TCP connection) and its hop; returns itself. */
  use(direction: ListenerDirection, x: TelemetryRequest | null, grpcStatus: string, facts: (() => HopFacts) | null): this {
    this.direction = direction;
    this.x = x;
    this.grpcStatus = grpcStatus;
    this.facts = facts;
    this.labels = null;
    return this;
  }

  header(name: string): string | undefined {
    return this.x?.header(name);
  }

  get(id: number): string | number | boolean | undefined {
    const x = this.x;
    const client = this.direction !== "inbound";
    switch (id) {
      case ATTR.mtls:
        return x === null ? this.label(client ? ATTR.destinationPrincipal : ATTR.sourcePrincipal) !== undefined : (client ? x.upstreamPrincipal : x.peerPrincipal) !== "";
      case ATTR.responseGrpcStatus:
        return this.grpcStatus === "" ? undefined : Number(this.grpcStatus);
    }
    if (id in LABEL_OF) return this.label(id);
    if (x === null) return undefined;
    switch (id) {
      case ATTR.requestHost:
        return x.authority;
      case ATTR.requestMethod:
        return x.method;
      case ATTR.requestPath:
        return x.path;
      case ATTR.requestUrlPath: {
        const q = x.path.indexOf("?");
        return q < 0 ? x.path : x.path.slice(0, q);
      }
      case ATTR.requestId:
        return x.requestId;
      case ATTR.requestUserAgent:
        return x.header("user-agent");
      case ATTR.requestSize:
        return x.bytesReceived;
      case ATTR.responseCode:
        return x.status;
      case ATTR.responseSize:
        return x.bytesSent;
      case ATTR.sourceAddress:
        return x.sourceIp || undefined;
      case ATTR.upstreamAddress:
        return x.upstreamHost || undefined;
      case ATTR.clusterName:
        return x.cluster || undefined;
      case ATTR.routeName:
        return x.routeName || undefined;
      default:
        return undefined;
    }
  }

  /** A workload or principal attribute, from the hop's Istio labels ("unknown" is absent). */
  private label(id: number): string | undefined {
    if (this.facts === null) return undefined;
    this.labels ??= istioLabels(this.facts());
    const v = this.labels[LABEL_OF[id] as number];
    return v === undefined || v === UNKNOWN ? undefined : v;
  }
}
