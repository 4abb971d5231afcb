// FloodGuard: the limits nghttp2 (and node:http2 over it) keeps against a client that makes a
// connection do work for nothing; each check returns false when the connection is to be closed
// with GOAWAY ENHANCE_YOUR_CALM.
// - control frames queued for the client (PING and SETTINGS ACKs, RST_STREAMs) not yet written:
//   at most 1,000 (nghttp2's max outbound ACKs) — a client that floods PINGs without reading;
// - streams the client resets: a token bucket of 1,000, refilled at 33 per second (nghttp2's
//   stream reset rate limit, CVE-2023-44487 "rapid reset");
// - frames that carry nothing or that the connection refuses (empty DATA or CONTINUATION, refused or
//   malformed streams): at most 1,000 per connection (node's maxSessionInvalidFrames).
const MAX_PENDING_CONTROL = 1000;
const RESET_BURST = 1000;
const RESET_RATE_PER_MS = 33 / 1000;
const MAX_INVALID_FRAMES = 1000;

export class FloodGuard {
  private readonly now: () => number;
  private pendingControl = 0;
  private resetTokens = RESET_BURST;
  private resetAt: number;
  private invalidFrames = 0;

  constructor(now: () => number) {
    this.now = now;
    this.resetAt = now();
  }

  /** A control frame is queued for the client. */
  control(): boolean {
    return ++this.pendingControl <= MAX_PENDING_CONTROL;
  }

  /** The turn's bytes went to the kernel (not queued behind a client that does not read). */
  written(): void {
    this.pendingControl = 0;
  }

  /** The client reset one of its streams. */
  reset(): boolean {
    const t = this.now();
    this.resetTokens = Math.min(RESET_BURST, this.resetTokens + (t - this.resetAt) * RESET_RATE_PER_MS);
    this.resetAt = t;
    return --this.resetTokens >= 0;
  }

  /** An empty, refused or malformed frame. */
  invalid(): boolean {
    return ++this.invalidFrames <= MAX_INVALID_FRAMES;
  }
}
