// WorkloadCertificate: the sidecar's X.509 SVID, as Istio's agent keeps it (SDS `default` and
// `ROOTCA`). The key pair is generated here and never leaves the process; a CSR signed with it
// goes to the control plane's CA (POST /ca/v1/certificates, wire.ts). The first request is
// authenticated by this proxy's bootstrap credential (good for one certificate); every renewal by
// the current certificate, presented as the TLS client certificate. Rotation: a new key and
// certificate at half the certificate's remaining lifetime (Istio's SECRET_GRACE_PERIOD_RATIO
// 0.5, ±1 % jitter); a failed request is retried with backoff while the current one is valid.
// MeshCredentials (mesh-credentials.ts) turns each one into the TLS context mutual TLS uses.
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.ts";
import { systemRandom, type Random } from "../../core/random.ts";
import { newKeyAndRequest } from "./csr.ts";
import type { CertificateRequest, CertificateResponse } from "../../model/wire.ts";
import { SmallHttpClient } from "../small-http/index.ts";
import { controlPlaneContext } from "../control/control-plane-context.ts";


const GRACE_RATIO = 0.5;
const GRACE_JITTER = 0.01;
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 30_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WorkloadCertificateOptions {
  /** Control plane base URL. */
  url: string;
  /** Several control-plane replicas (`url` is then ignored): a failed request moves to the next. */
  urls?: readonly string[];
  /** The mesh root(s) the control plane's certificate must chain to (PEM). */
  ca?: string | (() => string | undefined);
  /**
   * This proxy's bootstrap credential (the runtime handed it): good for the first certificate
   * only. A function is asked on every request it authenticates (a Kubernetes projected token,
   * rotated by the kubelet, is good for any number).
   */
  token: string | (() => string);
  /** Requested lifetime (Istio's SECRET_TTL); absent = the CA's default (24 h). */
  ttlSeconds?: number;
  clock?: Clock;
  random?: Random;
  log?: (line: string) => void;
  /** After each new certificate is in place. */
  onIssued?: (cert: ActiveCertificate) => void;
}

export interface ActiveCertificate extends CertificateResponse {
  /** The private key, PKCS#8 PEM; it stays in this process (for the TLS contexts). */
  keyPem: string;
  /** When it was received, wall ms. */
  receivedAt: number;
}

export class WorkloadCertificate {
  current: ActiveCertificate | null = null;
  /** Certificates received so far. */
  issued = 0;
  readonly #o: WorkloadCertificateOptions;
  readonly #clock: Clock;
  readonly #http: SmallHttpClient;
  readonly #random: Random;
  #timer: TimerHandle | null = null;
  #failures = 0;
  /** The replica the next request goes to (an index into `urls`). */
  #at = 0;
  #closed = false;
  /** The next request goes with the bootstrap credential (first one, or after our serial was revoked). */
  #bootstrap = true;
  /** The key and CSR of the bootstrap request until it gets its certificate (retries send the same). */
  #bootstrapRequest: { keyPem: string; csrPem: string } | undefined;
  /** A request is in flight. */
  #renewing = false;

  constructor(o: WorkloadCertificateOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#http = new SmallHttpClient(this.#clock);
    this.#random = o.random ?? systemRandom;
  }

  start(): this {
    void this.#renew();
    return this;
  }

  /** Renew now with the current certificate (the CA signs under a new root: docs/security.md, "Root rotation"). */
  renewSoon(): void {
    if (this.#closed || this.#renewing) return;
    this.#timer?.cancel();
    void this.#renew();
  }

  /**
   * Replace the certificate now (its serial was revoked): a new key, a new CSR, asked for with the
   * bootstrap credential, as a revoked certificate cannot renew itself.
   */
  renewNow(): void {
    if (this.#closed) return;
    this.#bootstrap = true;
    this.#timer?.cancel();
    void this.#renew();
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
  }

  /** When the next rotation is due for a certificate received at `receivedAt` (wall ms). */
  static rotateAt(receivedAt: number, notAfter: number, random: Random): number {
    const jitter = (random.next() * 2 - 1) * GRACE_JITTER;
    const ratio = Math.min(1, Math.max(0, GRACE_RATIO + jitter));
    return notAfter - ratio * (notAfter - receivedAt);
  }

  async #renew(): Promise<void> {
    if (this.#closed) return;
    this.#renewing = true;
    try {
      // ECDSA P-256 (Istio's ECC_SIGNATURE_ALGORITHM=ECDSA): cheap to generate at every rotation. The
      // bootstrap request keeps its key across retries: if an answer was lost after the CA issued it, the
      // same request gets the same certificate again (the credential is good for one).
      const { keyPem, csrPem } = this.#bootstrap ? (this.#bootstrapRequest ??= await newKeyAndRequest()) : await newKeyAndRequest();
      const body: CertificateRequest = { csr: csrPem, ...(this.#o.ttlSeconds !== undefined ? { ttlSeconds: this.#o.ttlSeconds } : {}) };
      const current = this.#bootstrap ? null : this.current;
      const res = await this.#post(body, current);
      if (this.#closed) return;
      const receivedAt = this.#clock.wallNow();
      this.current = { ...res, keyPem, receivedAt };
      this.issued++;
      this.#failures = 0;
      this.#bootstrap = false;
      this.#bootstrapRequest = undefined;
      this.#o.log?.(`workload certificate ${res.identity} serial ${res.serial}, valid until ${res.notAfter}`);
      this.#o.onIssued?.(this.current);
      if (this.#closed) return; // closed by onIssued: no rotation to arm
      const due = WorkloadCertificate.rotateAt(receivedAt, Date.parse(res.notAfter), this.#random);
      this.#scheduleAt(due);
    } catch (e) {
      if (this.#closed) return;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.#failures++, 10));
      const urls = this.#o.urls ?? [];
      if (urls.length > 1) this.#at = (this.#at + 1) % urls.length;
      this.#o.log?.(`workload certificate request failed (${(e as Error).message}); retrying in ${delay / 1000} s${urls.length > 1 ? ` at ${urls[this.#at]}` : ""}`);
      this.#schedule(delay);
    } finally {
      this.#renewing = false;
    }
  }

  #schedule(ms: number): void {
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(() => void this.#renew(), ms);
  }

  /** Renew at wall time `due`; a timer holds at most ~24 days, so a longer wait is taken in steps. */
  #scheduleAt(due: number): void {
    const wait = due - this.#clock.wallNow();
    if (wait <= MAX_TIMER_MS) return this.#schedule(Math.max(0, wait));
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(() => this.#scheduleAt(due), MAX_TIMER_MS);
  }

  /** With `current`: authenticated by that certificate (TLS client certificate); else by the bootstrap credential. */
  async #post(body: CertificateRequest, current: ActiveCertificate | null): Promise<CertificateResponse> {
    const urls = this.#o.urls ?? [];
    const url = new URL("/ca/v1/certificates", urls.length > 0 ? urls[this.#at % urls.length]! : this.#o.url);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (current === null) headers.authorization = `Bearer ${typeof this.#o.token === "function" ? this.#o.token() : this.#o.token}`;
    const ca = typeof this.#o.ca === "function" ? this.#o.ca() : this.#o.ca;
    // A renewal presents the current certificate (a context of its own, twice a day); the bootstrap
    // request shares the stream's context. One connection per request (no pool key): twice a day.
    const tls = current !== null ? { ...(ca !== undefined ? { ca } : {}), cert: current.certChain.join(""), key: current.keyPem } : ca !== undefined ? { secureContext: controlPlaneContext(ca) } : {};
    const res = await this.#http.request(url, { method: "POST", headers, body: JSON.stringify(body), timeoutMs: 10_000, tls });
    const out = res.body.toString("utf8");
    if (res.status !== 200) throw new Error(`HTTP ${res.status} ${out.slice(0, 300)}`);
    return JSON.parse(out) as CertificateResponse;
  }
}
