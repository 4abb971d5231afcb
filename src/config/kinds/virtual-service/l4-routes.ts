// TCP and TLS routes of a VirtualService.
import { checkKnownFields } from "../../checks/fields.ts";
import { ipSubnetError, isIP, wildcardDomainError } from "../../checks/host.ts";
import { checkPort } from "../../checks/port.ts";
import { checkLabels } from "../../checks/selector.ts";
import { readArray, readObject, readString, readStringArray } from "../../checks/shape.ts";
import { isDns1123Label } from "../../checks/host.ts";
import type { FieldPath, JsonObject } from "../../../model/resource.ts";
import { hostSubsetOf, type VsContext } from "./context.ts";
import { checkRouteDestinations } from "./destination.ts";
import { checkGatewayNames } from "./gateways.ts";

function checkL4Common(ctx: VsContext, at: FieldPath, m: JsonObject): void {
  const { v } = ctx;
  readStringArray(v, [...at, "destinationSubnets"], m.destinationSubnets)?.forEach((s, i) => {
    const err = ipSubnetError(s);
    if (err) v.error([...at, "destinationSubnets", i], err);
  });
  if (m.port != null && m.port !== 0) checkPort(v, [...at, "port"], m.port);
  checkLabels(v, [...at, "sourceLabels"], m.sourceLabels);
  const gws = readStringArray(v, [...at, "gateways"], m.gateways);
  if (gws) checkGatewayNames(v, [...at, "gateways"], gws);
  const ns = readString(v, [...at, "sourceNamespace"], m.sourceNamespace);
  if (ns && !isDns1123Label(ns)) v.error([...at, "sourceNamespace"], `sourceNamespace match ${ns} is invalid`);
}

export function checkTcpRoute(ctx: VsContext, path: FieldPath, r: JsonObject): void {
  const { v } = ctx;
  checkKnownFields(v, path, r, ["match", "route"]);
  readArray(v, [...path, "match"], r.match)?.forEach((item, i) => {
    const at = [...path, "match", i];
    if (item === null) {
      v.error(at, "tcp match may not be nil");
      return;
    }
    const m = readObject(v, at, item);
    if (!m) return;
    checkKnownFields(v, at, m, ["destinationSubnets", "port", "sourceSubnet", "sourceLabels", "gateways", "sourceNamespace"]);
    checkL4Common(ctx, at, m);
    const src = readString(v, [...at, "sourceSubnet"], m.sourceSubnet);
    const err = src ? ipSubnetError(src) : null;
    if (err) v.error([...at, "sourceSubnet"], err);
  });
  if (checkRouteDestinations(v, [...path, "route"], r.route, false) === 0) v.error(path, "TCP route is required");
}

export function checkTlsRoute(ctx: VsContext, path: FieldPath, r: JsonObject): void {
  const { v } = ctx;
  checkKnownFields(v, path, r, ["match", "route"]);
  const matches = readArray(v, [...path, "match"], r.match) ?? [];
  if (matches.length === 0) v.error(path, "TLS route must have at least one match condition");
  matches.forEach((item, i) => {
    const at = [...path, "match", i];
    if (item === null) {
      v.error(at, "TLS match may not be null");
      return;
    }
    const m = readObject(v, at, item);
    if (!m) return;
    checkKnownFields(v, at, m, ["sniHosts", "destinationSubnets", "port", "sourceLabels", "gateways", "sourceNamespace"]);
    const sni = readStringArray(v, [...at, "sniHosts"], m.sniHosts) ?? [];
    if (sni.length === 0) v.error(at, "TLS match must have at least one SNI host");
    sni.forEach((h, j) => checkSniHost(ctx, [...at, "sniHosts", j], h));
    checkL4Common(ctx, at, m);
  });
  if (checkRouteDestinations(v, [...path, "route"], r.route, false) === 0) v.error(path, "TLS route is required");
}

function checkSniHost(ctx: VsContext, at: FieldPath, h: string): void {
  const err = ctx.appliesToGateway && h.startsWith("outbound_") ? null : wildcardDomainError(h);
  if (err) {
    if (isIP(h)) ctx.v.warn(at, `using an IP address (${JSON.stringify(h)}) goes against SNI spec and most clients do not support this`);
    else ctx.v.error(at, err);
    return;
  }
  if (!ctx.hosts.some((vh) => hostSubsetOf(h, vh))) {
    ctx.v.error(at, `SNI host ${JSON.stringify(h)} is not a compatible subset of any of the virtual service hosts: [${ctx.hosts.join(", ")}]`);
  }
}
