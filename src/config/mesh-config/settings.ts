// MeshConfig → the snapshot's MeshSettings: the fields the translation reads directly (root
// namespace, trust domain, outbound traffic policy) plus the whole MeshConfig, which the
// translation of telemetry (extension providers, defaults, sampling, access log file) and of
// proxy knobs (defaultConfig) reads from `mesh.config`.
import type { MeshSettings } from "../../model/snapshot.ts";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";

export function meshSettingsOf(config: MeshConfig): Partial<MeshSettings> {
  const out: Partial<MeshSettings> = { config };
  if (typeof config.rootNamespace === "string" && config.rootNamespace !== "") out.rootNamespace = config.rootNamespace;
  if (typeof config.trustDomain === "string" && config.trustDomain !== "") out.trustDomain = config.trustDomain;
  const mode = config.outboundTrafficPolicy?.mode;
  if (mode === "ALLOW_ANY" || mode === "REGISTRY_ONLY") out.outboundTrafficPolicy = mode;
  return out;
}
