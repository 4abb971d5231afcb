// Envoy response flags (%RESPONSE_FLAGS%), as a bit set per request: cheap to set on the hot path,
// rendered to Envoy's short codes ("UF,URX", or "-" for none) only when someone logs them.

export const RF_DC = 1 << 0; // downstream connection termination
export const RF_UH = 1 << 1; // no healthy upstream
export const RF_UT = 1 << 2; // upstream request timeout
export const RF_LR = 1 << 3; // local reset
export const RF_UF = 1 << 4; // upstream connection failure
export const RF_UC = 1 << 5; // upstream connection termination
export const RF_UO = 1 << 6; // upstream overflow (circuit breaker)
export const RF_NR = 1 << 7; // no route found
export const RF_DI = 1 << 8; // delay injected
export const RF_FI = 1 << 9; // fault injected (abort)
export const RF_URX = 1 << 10; // upstream retry limit exceeded
export const RF_UPE = 1 << 11; // upstream protocol error
export const RF_DPE = 1 << 12; // downstream protocol error
export const RF_NC = 1 << 13; // no cluster found
export const RF_RL = 1 << 14; // rate limited (local or global)
export const RF_RLSE = 1 << 15; // the rate-limit service failed (global ratelimit, failure_mode_deny)
export const RF_UAEX = 1 << 16; // denied by the external authorization service (or its failure, fail-closed)

// Envoy's order in its flag string (source/common/stream_info/utility.cc).
const NAMES: ReadonlyArray<readonly [number, string]> = [
  [RF_LR, "LR"],
  [RF_UH, "UH"],
  [RF_UT, "UT"],
  [RF_UF, "UF"],
  [RF_UC, "UC"],
  [RF_UO, "UO"],
  [RF_NR, "NR"],
  [RF_DI, "DI"],
  [RF_FI, "FI"],
  [RF_RL, "RL"],
  [RF_UAEX, "UAEX"],
  [RF_RLSE, "RLSE"],
  [RF_DC, "DC"],
  [RF_URX, "URX"],
  [RF_UPE, "UPE"],
  [RF_DPE, "DPE"],
  [RF_NC, "NC"],
];

/** `UF,URX`; `-` when no flag is set. */
export function formatResponseFlags(flags: number): string {
  if (flags === 0) return "-";
  let out = "";
  for (const [bit, name] of NAMES) {
    if ((flags & bit) !== 0) out = out === "" ? name : `${out},${name}`;
  }
  return out;
}
