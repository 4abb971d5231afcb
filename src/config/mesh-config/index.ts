// Stage: config loading, mesh level. Istio's MeshConfig (the `mesh` key of the `istio` ConfigMap):
// parse with source positions, validate with Istio's rules, name the extension providers, and turn
// it into the snapshot's MeshSettings. Pure; read-files.ts reads the file.
export { parseMeshConfig, type MeshConfigDocument, type MeshConfigParse } from "./parse.ts";
export { validateMeshConfig, APPLIED_RUNTIME_KEYS, type MeshConfigValidation } from "./validate.ts";
export { BUILTIN_PROVIDERS, meshProviders, providerProblem, providerType, serviceHost, type TelemetrySection } from "./providers.ts";
export { meshSettingsOf } from "./settings.ts";
