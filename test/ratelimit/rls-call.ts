// ShouldRateLimit calls with @grpc/grpc-js, for tests that run them inside the mesh (`amime exec
// curl -- node test/ratelimit/rls-call.ts ratelimit:8081 TIMES DOMAIN KEY=VALUE…`): grpc-js honours
// http_proxy, so the calls go through the exec'd instance's sidecar. TIMES calls one after the
// other in one process (so they fall in one window but for a rare boundary, which the caller
// sees in duration_until_reset); prints a JSON array of responses (or {"error":CODE,"details"}).
import { RlsClient, type WireResponse } from "./harness.ts";

const [target, times, domain, ...pairs] = process.argv.slice(2);
const client = new RlsClient(target!);
const descriptor: Record<string, string> = {};
for (const p of pairs) descriptor[p.slice(0, p.indexOf("="))] = p.slice(p.indexOf("=") + 1);
const out: (WireResponse | { error: number; details: string })[] = [];
for (let i = 0; i < Number(times); i++) {
  try {
    out.push(await client.shouldRateLimit(domain!, [descriptor]));
  } catch (e) {
    out.push({ error: (e as { code: number }).code, details: (e as { details: string }).details });
  }
}
client.close();
process.stdout.write(JSON.stringify(out) + "\n");
