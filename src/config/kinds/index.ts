// The kinds Amime understands, registered by group and kind. Adding a kind: one file + one line here.
import { authorizationPolicyKind } from "./authorization-policy.ts";
import { destinationRuleKind } from "./destination-rule.ts";
import { envoyFilterKind } from "./envoy-filter.ts";
import { gatewayKind } from "./gateway.ts";
import type { KindDefinition } from "./kind.ts";
import { peerAuthenticationKind } from "./peer-authentication.ts";
import { proxyConfigKind } from "./proxy-config.ts";
import { rateLimitKind } from "./rate-limit.ts";
import { requestAuthenticationKind } from "./request-authentication.ts";
import { serviceEntryKind } from "./service-entry.ts";
import { serviceKind } from "./service.ts";
import { sidecarKind } from "./sidecar.ts";
import { telemetryKind } from "./telemetry.ts";
import { virtualServiceKind } from "./virtual-service.ts";
import { wasmPluginKind } from "./wasm-plugin.ts";
import { workloadEntryKind } from "./workload-entry.ts";
import { workloadKind } from "./workload.ts";

export const KINDS: readonly KindDefinition[] = [
  virtualServiceKind, destinationRuleKind, serviceEntryKind, gatewayKind, sidecarKind, workloadEntryKind,
  peerAuthenticationKind, requestAuthenticationKind, authorizationPolicyKind,
  telemetryKind,
  envoyFilterKind, wasmPluginKind, proxyConfigKind,
  rateLimitKind,
  serviceKind, workloadKind,
];

const byGroupKind = new Map(KINDS.map((k) => [`${k.group}/${k.kind}`, k]));

export function findKind(group: string, kind: string): KindDefinition | undefined {
  return byGroupKind.get(`${group}/${kind}`);
}
