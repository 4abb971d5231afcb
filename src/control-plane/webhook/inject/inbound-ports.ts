// Which sidecar inbound listener each app port of a pod gets: the TCP containerPorts of its app
// containers in order, the first 15006, then 15101, 15102… (Amime reads no SO_ORIGINAL_DST: one
// listener per port). The injector writes it into istio-init's capture rules; whatever registers
// an injected pod's instance must use the same numbering (ports: containerPort → listener). Pure.
import { isObject, type Json } from "../../../model/resource.ts";
import { inboundListenerPort, RESERVED_PORTS } from "../../../model/sidecar-pod.ts";
import { PROXY_CONTAINER } from "./template.ts";

export type InboundPorts = { ports: Map<number, number> } | { error: string };

/** From `spec.containers` (the sidecar itself, if already there, is skipped). */
export function inboundPorts(containers: Json | undefined): InboundPorts {
  const ports = new Map<number, number>();
  const list = Array.isArray(containers) ? containers : [];
  for (const [ci, c] of list.entries()) {
    if (!isObject(c) || c.name === PROXY_CONTAINER) continue;
    const declared = Array.isArray(c.ports) ? c.ports : [];
    for (const [pi, p] of declared.entries()) {
      if (!isObject(p) || typeof p.containerPort !== "number" || (p.protocol !== undefined && p.protocol !== "TCP") || ports.has(p.containerPort)) continue;
      if (p.containerPort >= RESERVED_PORTS.first && p.containerPort <= RESERVED_PORTS.last) {
        return { error: `spec.containers[${ci}].ports[${pi}].containerPort: ${p.containerPort} is in ${RESERVED_PORTS.first}-${RESERVED_PORTS.last}, the sidecar's ports` };
      }
      ports.set(p.containerPort, inboundListenerPort(ports.size));
    }
  }
  return { ports };
}
