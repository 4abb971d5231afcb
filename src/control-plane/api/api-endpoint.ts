// The control plane's endpoint (serve stage): the API, the push stream and the dashboard on one TLS
// listener (api-server.ts), with a certificate from the mesh CA that renews itself
// (ca/serving-certificate.ts), every request through the RequestGate first (auth/gate.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../../core/clock.ts";
import type { CredentialIssuer } from "../auth/credentials.ts";
import { RequestGate } from "../auth/gate.ts";
import type { ProxyPrincipal, Principal } from "../auth/token.ts";
import { ServingCertificate, servingNames } from "../ca/serving-certificate.ts";
import type { SigningCA } from "../ca/signing-ca.ts";
import { ApiServer } from "./api-server.ts";

export interface ApiEndpointOptions {
  readonly host: string;
  readonly port: number;
  /** Extra host names the control plane is reached by. */
  readonly allowedHosts: readonly string[] | undefined;
  readonly clock: Clock;
  readonly ca: () => Promise<SigningCA>;
  /** The mesh roots client certificates are verified against (PEM), now. */
  readonly roots: () => string;
  readonly issuer: CredentialIssuer;
  readonly sessions: { verify(id: string): Principal | null };
  /** With --platform kubernetes: whom a projected service-account token names. */
  readonly reviewToken: ((token: string) => Promise<ProxyPrincipal>) | undefined;
  /** A request the gate let through. */
  readonly handle: (req: IncomingMessage, res: ServerResponse, principal: Principal | null) => void;
  readonly log: (line: string) => void;
}

export class ApiEndpoint {
  private readonly serving: ServingCertificate;
  private server: ApiServer | null = null;

  private constructor(serving: ServingCertificate) {
    this.serving = serving;
  }

  /** Get a certificate and listen; on a failure nothing is left running. */
  static async start(o: ApiEndpointOptions): Promise<ApiEndpoint> {
    const serving = new ServingCertificate({
      ca: o.ca,
      names: servingNames(o.host, o.allowedHosts),
      clock: o.clock,
      onRenewed: (m) => endpoint.server?.setCertificate(m.cert, m.key, o.roots()),
      log: o.log,
    });
    const endpoint = new ApiEndpoint(serving);
    const material = await serving.start();
    const gate = new RequestGate({
      issuer: o.issuer,
      sessions: o.sessions,
      listenHost: o.host,
      port: () => endpoint.port,
      ...(o.allowedHosts ? { allowedHosts: o.allowedHosts } : {}),
      ...(o.reviewToken !== undefined ? { reviewToken: o.reviewToken } : {}),
    });
    try {
      endpoint.server = await ApiServer.listen({ port: o.port, host: o.host, cert: material.cert, key: material.key, ca: o.roots(), gate, handle: o.handle });
    } catch (e) {
      serving.close();
      throw e;
    }
    return endpoint;
  }

  /** The bound port (0 until listening). */
  get port(): number {
    return this.server?.port ?? 0;
  }

  /** New mesh roots: with `reissue`, a certificate under the new root now; else the roots clients are verified against. */
  async trustRoots(roots: string, reissue: boolean): Promise<void> {
    const current = this.serving.current;
    if (reissue) await this.serving.renewNow();
    else if (current) this.server?.setCertificate(current.cert, current.key, roots);
  }

  /** No more renewals (the first step of a close). */
  stopRenewing(): void {
    this.serving.close();
  }

  /** End every connection and stop listening. */
  async close(): Promise<void> {
    await this.server?.close();
  }
}
