// Analyzer message codes. Where Istio's `istioctl analyze` has a message for the same finding we
// reuse its code (IST…), so search results and runbooks carry over; Amime-only findings use AMM1….
// Beside analyze/ rather than in it: the kinds' and MeshConfig's validators give some of these
// codes too (what is accepted but not applied), and they stand below the analyzers.
export const AnalyzerCodes = {
  /** An analyzer crashed on odd input; always a bug in Amime. */
  internalError: "IST0001",
  /** A referenced host, host+subset or gateway does not exist. */
  referencedResourceNotFound: "IST0101",
  /** Two VirtualServices bound to the mesh define the same host. */
  conflictingMeshGatewayHosts: "IST0109",
  /** A DestinationRule's TLS mode contradicts the PeerAuthentication of the workloads it targets. */
  mtlsPolicyConflict: "IST0113",
  /** A VirtualService rule can never match. */
  unreachableRule: "IST0130",
  /** One match of a rule is hidden by an earlier one. */
  ineffectiveMatch: "IST0131",
  /** A DestinationRule subset selects no workload of its service. */
  subsetSelectsNothing: "IST0173",
  /** A DestinationRule's host is not a known service. */
  unknownDestinationRuleHost: "IST0174",
  /** A destination names a subset that only another host of the same split defines. */
  subsetOfOtherHost: "AMM1001",
  /** A split whose weights are all 0 sends no traffic. */
  zeroTotalWeight: "AMM1002",
  /** A Service's selector matches no workload. */
  serviceSelectsNothing: "AMM1003",
  /** Several VirtualServices bound to the same named gateway define the same host (merged by Istio). */
  sharedGatewayHost: "AMM1004",
  /** A MeshConfig field (or defaultConfig field, runtime key) that Amime accepts but does not apply. */
  meshConfigNotApplied: "AMM1010",
  /** A Telemetry, defaultProviders or CUSTOM AuthorizationPolicy provider name no extension provider defines. */
  unknownProvider: "AMM1011",
  /** A provider the sidecar cannot use for that purpose (type not exported yet, or wrong section). */
  providerNotExported: "AMM1012",
  /** An EnvoyFilter, WasmPlugin or ProxyConfig: validated and loaded, but not applied. */
  kindNotApplied: "AMM1013",
  /** A PeerAuthentication or AuthorizationPolicy: validated, not enforced. */
  securityNotEnforced: "AMM1014",
  // AMM1015 (DestinationRule ISTIO_MUTUAL unavailable) is retired: the sidecars do mutual TLS.
  /** A Service port's appProtocol that Istio does not know, overriding the port name's protocol. */
  unknownAppProtocol: "AMM1016",
  /** A Telemetry field the translation does not apply (targetRefs, non-literal custom tags, tag overrides…). */
  telemetryNotApplied: "AMM1017",
  /** An EnvoyFilter's global ratelimit filter calls a cluster no Service or ServiceEntry gives the proxies. */
  rateLimitServiceNotFound: "AMM1018",
  /** Istio's NoMatchingWorkloadsFound: an AuthorizationPolicy selector that matches no workload. */
  noMatchingWorkloads: "IST0127",
  /** Istio's JwtClaimBasedRoutingWithoutRequestAuthN: claim routes on a gateway no RequestAuthentication selects. */
  jwtClaimRoutingWithoutAuthn: "IST0149",
  /** An AuthorizationPolicy rule that can never match where it applies (ports not on the workload, HTTP-only fields on TCP ports, peer identity without mTLS). */
  authzRuleNeverMatches: "AMM1019",
  /** A RequestAuthentication with no ALLOW policy on requestPrincipals for the same workloads: tokens are optional. */
  jwtOptional: "AMM1020",
  /** A RateLimit whose spec.service names a host no Service or ServiceEntry defines: it applies to nothing. */
  rateLimitServiceUnknown: "AMM1021",
  /** A RateLimit rule keyed by a JWT claim on workloads no RequestAuthentication covers: it never counts. */
  rateLimitClaimWithoutAuthn: "AMM1022",
  /** A DestinationRule for a telemetry collector's host with TLS fields the export does not use (credentialName, subjectAltNames). */
  collectorTlsNotApplied: "AMM1023",
  /** A cluster's TCP Service port while no amime-node-agent DaemonSet runs: injected pods' connections to it reach 15001 (amime analyze --use-kube). */
  nodeAgentMissing: "AMM1024",
} as const;

/**
 * Findings that say config is accepted but does nothing (or not what Istio does) in Amime: the
 * commands that start a mesh (`amime up`, `amime control-plane`) print these even though they are
 * warnings, so config that fails open is never met with silence.
 */
export const NOT_APPLIED_CODES: ReadonlySet<string> = new Set([
  AnalyzerCodes.meshConfigNotApplied, AnalyzerCodes.providerNotExported, AnalyzerCodes.kindNotApplied,
  AnalyzerCodes.securityNotEnforced, AnalyzerCodes.unknownAppProtocol,
  AnalyzerCodes.telemetryNotApplied,
]);
