// VirtualService (networking.istio.io): schema validation matching Istio's validator (texts from
// pkg/config/validation). The parts live in virtual-service/: http-route, match, actions,
// destination, l4-routes, gateways.
import { checkExportTo } from "../checks/export-to.ts";
import { checkKnownFields } from "../checks/fields.ts";
import { isIP, wildcardDomainError } from "../checks/host.ts";
import { readArray, readObject, readStringArray } from "../checks/shape.ts";
import { MESH_GATEWAY } from "../defaults.ts";
import type { Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_VERSIONS, type KindDefinition } from "./kind.ts";
import { hostsOverlap, type VsContext } from "./virtual-service/context.ts";
import { checkGatewayNames } from "./virtual-service/gateways.ts";
import { checkHttpRoute } from "./virtual-service/http-route.ts";
import { checkTcpRoute, checkTlsRoute } from "./virtual-service/l4-routes.ts";
import { warnUnreachableRules } from "./virtual-service/unreachable.ts";

export const VIRTUAL_SERVICE_FIELDS = ["hosts", "gateways", "http", "tls", "tcp", "exportTo"] as const;

export function validateVirtualService(r: Resource, v: Validator): void {
  const spec = readObject(v, ["spec"], r.body.spec) ?? {};
  checkKnownFields(v, ["spec"], spec, VIRTUAL_SERVICE_FIELDS);
  const hosts = readStringArray(v, ["spec", "hosts"], spec.hosts) ?? [];
  const gateways = readStringArray(v, ["spec", "gateways"], spec.gateways) ?? [];
  const http = readArray(v, ["spec", "http"], spec.http) ?? [];
  const tcp = readArray(v, ["spec", "tcp"], spec.tcp) ?? [];
  const tls = readArray(v, ["spec", "tls"], spec.tls) ?? [];
  const isDelegate = hosts.length === 0;
  if (isDelegate) {
    if (gateways.length > 0) v.error(["spec", "gateways"], "delegate virtual service must have no gateways specified");
    if (tls.length > 0) v.error(["spec", "tls"], "delegate virtual service must have no tls route specified");
    if (tcp.length > 0) v.error(["spec", "tcp"], "delegate virtual service must have no tcp route specified");
  }
  if (gateways.length > 0) checkGatewayNames(v, ["spec", "gateways"], gateways);
  const appliesToGateway = gateways.length > 0 && !gateways.includes(MESH_GATEWAY);
  const ctx: VsContext = { v, namespace: r.metadata.namespace || "default", hosts, gateways, isDelegate, appliesToGateway };

  let allHostsValid = true;
  hosts.forEach((h, i) => {
    const sniGatewayHost = appliesToGateway && h.startsWith("outbound_") && tls.length > 0;
    const err = sniGatewayHost ? null : wildcardDomainError(h);
    if (err) {
      if (!isIP(h)) {
        v.error(["spec", "hosts", i], err);
        allHostsValid = false;
      }
    } else if (!appliesToGateway && h === "*") {
      v.error(["spec", "hosts", i], "wildcard host * is not allowed for virtual services bound to the mesh gateway");
      allHostsValid = false;
    }
  });
  if (allHostsValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        if (hostsOverlap(hosts[i]!, hosts[j]!)) v.error(["spec", "hosts", j], `duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`);
      }
    }
  }
  if (http.length === 0 && tcp.length === 0 && tls.length === 0) v.error(["spec"], "http, tcp or tls must be provided in virtual service");

  http.forEach((route, i) => {
    if (route === null) v.error(["spec", "http", i], "http route may not be null");
    const obj = readObject(v, ["spec", "http", i], route);
    if (obj) checkHttpRoute(ctx, ["spec", "http", i], obj);
  });
  tls.forEach((route, i) => {
    const obj = readObject(v, ["spec", "tls", i], route);
    if (obj) checkTlsRoute(ctx, ["spec", "tls", i], obj);
  });
  tcp.forEach((route, i) => {
    const obj = readObject(v, ["spec", "tcp", i], route);
    if (obj) checkTcpRoute(ctx, ["spec", "tcp", i], obj);
  });
  checkExportTo(v, ["spec", "exportTo"], spec.exportTo, { namespace: ctx.namespace });
  warnUnreachableRules(v, ["spec", "http"], http);
  warnUnreachableRules(v, ["spec", "tcp"], tcp);
  warnUnreachableRules(v, ["spec", "tls"], tls);
}

export const virtualServiceKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "VirtualService",
  versions: ISTIO_VERSIONS,
  namespaced: true,
  validate: validateVirtualService,
};
