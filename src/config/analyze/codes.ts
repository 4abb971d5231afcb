// Analyzer message codes. Where Istio's `istioctl analyze` has a message for the same finding we
// reuse its code (IST…), so search results and runbooks carry over; Amime-only findings use AMM1….
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
} as const;
