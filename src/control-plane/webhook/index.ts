// Admission webhooks (Kubernetes platform): the API server asks the control plane to judge Istio
// config before storing it (/validate) and to add the sidecar to new pods (/inject). This is an
// ingest-side gate: nothing here touches the snapshot or the push. See docs/kubernetes.md.
import type { ControlPlane } from "../server.ts";
import { validateAdmission } from "./validate-admission.ts";
import { WebhookServer, type AdmissionHandler } from "./webhook-server.ts";

export { DEFAULT_WEBHOOK_PORT, WebhookServer } from "./webhook-server.ts";

export interface WebhookOptions {
  port: number;
  host: string;
  /** Names the API server dials besides the listen address (the Service's DNS name). */
  names: readonly string[];
  /** The sidecar injector's decision; without it /inject is not served. */
  inject?: AdmissionHandler;
}

/** Serve the webhooks with a certificate from this control plane's mesh CA. */
export function startWebhooks(cp: ControlPlane, o: WebhookOptions, log: (line: string) => void): Promise<WebhookServer> {
  const handlers: Record<string, AdmissionHandler> = { "/validate": validateAdmission };
  if (o.inject) handlers["/inject"] = o.inject;
  return WebhookServer.listen({ port: o.port, host: o.host, names: o.names, ca: () => cp.identities.ca(), clock: cp.clock, handlers, log });
}
