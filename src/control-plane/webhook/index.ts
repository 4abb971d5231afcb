// Admission webhooks (Kubernetes platform): the API server asks the control plane to judge Istio
// config before storing it (/validate) and to add the sidecar to new pods (/inject). This is an
// ingest-side gate: nothing here touches the snapshot or the push. See docs/kubernetes.md.
import type { MeshConfig } from "../../model/specs/mesh-config.ts";
import type { Clock } from "../../core/clock.ts";
import type { IdentityIssuer } from "../ca/index.ts";
import type { InjectorSettings } from "./inject/template.ts";
import { validateAdmission } from "./validate-admission.ts";
import { WebhookServer, type AdmissionHandler } from "./webhook-server.ts";

export { DEFAULT_WEBHOOK_PORT, WebhookServer } from "./webhook-server.ts";
export { injectAdmission } from "./inject/inject-admission.ts";

/** The control plane's Service as `amime install` writes it, on Istio's xDS port. */
export const DEFAULT_SIDECAR_XDS = "https://amime.istio-system.svc:15012";

/** The injector's settings: the image and address given, Istio's names, the MeshConfig's hold default. */
export function injectorSettings(image: string, controlPlaneUrl: string, mesh: MeshConfig | undefined): InjectorSettings {
  return {
    image,
    controlPlaneUrl,
    rootCertConfigMap: "istio-ca-root-cert",
    tokenAudience: "istio-ca",
    holdApplicationUntilProxyStarts: mesh?.defaultConfig?.holdApplicationUntilProxyStarts === true,
  };
}

export interface WebhookOptions {
  port: number;
  host: string;
  /** Names the API server dials besides the listen address (the Service's DNS name). */
  names: readonly string[];
  /** The sidecar injector's decision; without it /inject is not served. */
  inject?: AdmissionHandler;
}

/** What the webhooks take from the control plane: its mesh CA (for their certificate) and clock. */
export interface WebhookHost {
  readonly identities: Pick<IdentityIssuer, "ca">;
  readonly clock: Clock;
}

/** Serve the webhooks with a certificate from this control plane's mesh CA. */
export function startWebhooks(cp: WebhookHost, o: WebhookOptions, log: (line: string) => void): Promise<WebhookServer> {
  const handlers: Record<string, AdmissionHandler> = { "/validate": validateAdmission };
  if (o.inject) handlers["/inject"] = o.inject;
  return WebhookServer.listen({ port: o.port, host: o.host, names: o.names, ca: () => cp.identities.ca(), clock: cp.clock, handlers, log });
}
