// MeshCredentials: the sidecar's current workload certificate as TLS contexts for mutual TLS
// (Istio's SDS `default` + `ROOTCA`). One client and one server SecureContext per certificate,
// built when it arrives: a rotated certificate is used by new connections, while connections
// already open (pooled upstream ones included) keep the context they were made with.
import { createSecureContext, type SecureContext } from "node:tls";
import type { ActiveCertificate } from "./workload-certificate.ts";

export interface MeshTlsOptions {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly minVersion: "TLSv1.2";
}

export class MeshCredentials {
  #current: ActiveCertificate | null = null;
  #context: SecureContext | null = null;
  #options: MeshTlsOptions | null = null;

  /** Install a newly issued certificate (WorkloadCertificate's onIssued). */
  set(cert: ActiveCertificate): void {
    this.#options = { cert: cert.certChain.join(""), key: cert.keyPem, ca: cert.trustBundle.join(""), minVersion: "TLSv1.2" };
    this.#context = createSecureContext(this.#options);
    this.#current = cert;
  }

  /** The same material as options (a tls.Server's setSecureContext); null before the first certificate. */
  get options(): MeshTlsOptions | null {
    return this.#options;
  }

  get current(): ActiveCertificate | null {
    return this.#current;
  }

  /** Own SPIFFE id, once a certificate is in place. */
  get identity(): string | undefined {
    return this.#current?.identity;
  }

  /** The context for mutual TLS (client and server side share it: same chain, key and roots); null before the first certificate. */
  get context(): SecureContext | null {
    return this.#context;
  }
}

/** Lower-case hex serial without separators, as ProxyConfig.revocations lists them. */
export function normalSerial(serial: string): string {
  return serial.replace(/:/g, "").toLowerCase().replace(/^0+(?=.)/, "");
}
