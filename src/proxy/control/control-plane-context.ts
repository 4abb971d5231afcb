// The TLS context of the sidecar's own connections to the control plane: the push stream
// (push-stream.ts), the ACKs (ack-sender.ts) and the bootstrap certificate request
// (identity/workload-certificate.ts). All three verify the control plane against the same mesh
// roots, so they share one SecureContext, made again only when those roots change (a root
// rotation). Before, each connection built its own from the `ca` PEM: an OpenSSL context (≈ 75 kB
// of malloc) per connection, two of them held for the process's life by the stream and the ACKs'
// kept-alive connection (issue 15; docs/performance.md, "Session 11: the pushed sidecar's memory").
import type { SecureContext } from "node:tls";
import { tlsModule } from "../../core/builtins.ts";

let roots: string | undefined;
let context: SecureContext | undefined;

/** The context that verifies a control plane against `ca` (PEM roots); the same object while `ca` is the same. */
export function controlPlaneContext(ca: string): SecureContext {
  if (context === undefined || ca !== roots) {
    context = tlsModule().createSecureContext({ ca });
    roots = ca;
  }
  return context;
}
