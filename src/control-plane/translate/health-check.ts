// Active health checking for outbound clusters from the `amime.dev/health-check` annotation
// (src/config/checks/health-check.ts): the DestinationRule's annotation wins, else the v1
// Service's. An invalid value (validation reports it) means no health checking.
import { HEALTH_CHECK_ANNOTATION, parseHealthCheck } from "../../config/checks/health-check.ts";
import type { HealthCheckConfig } from "../../model/proxy-config.ts";

export function healthCheckFor(
  drAnnotations: Readonly<Record<string, string>> | undefined,
  serviceAnnotations: Readonly<Record<string, string>> | undefined,
): HealthCheckConfig | undefined {
  const value = drAnnotations?.[HEALTH_CHECK_ANNOTATION] ?? serviceAnnotations?.[HEALTH_CHECK_ANNOTATION];
  return typeof value === "string" ? parseHealthCheck(value).config : undefined;
}
