// The service's HTTP port, as the reference service's: GET /healthcheck (200 "OK" while serving)
// and POST /json, a RateLimitRequest as JSON (snake_case or protojson's camelCase) answered with
// the RateLimitResponse as protojson writes it (camelCase, defaults left out), status 429 when
// over the limit, 400 for a bad request, 503 while the counter store is down (failure mode error).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BadRequestError, type RateLimitDecision, type RateLimiter } from "./decide.ts";
import { callFromWire } from "./grpc-server.ts";
import { StoreUnavailableError } from "./store.ts";

const MAX_BODY = 1024 * 1024;

export function createRateLimitHttpServer(limiter: RateLimiter): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthcheck" && (req.method === "GET" || req.method === "HEAD")) return reply(res, 200, "text/plain", "OK");
    if (path === "/json") {
      if (req.method !== "POST") return reply(res, 405, "text/plain", "use POST\n");
      return void readBody(req).then(
        (body) => answerJson(limiter, body, res),
        (e: Error) => reply(res, 400, "text/plain", `${e.message}\n`),
      );
    }
    reply(res, 404, "text/plain", "not found (GET /healthcheck, POST /json)\n");
  });
}

async function answerJson(limiter: RateLimiter, body: string, res: ServerResponse): Promise<void> {
  let decision: RateLimitDecision;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new BadRequestError("the body must be a RateLimitRequest JSON object");
    decision = await limiter.shouldRateLimit(callFromWire(parsed as Record<string, unknown>));
  } catch (e) {
    const status = e instanceof StoreUnavailableError ? 503 : e instanceof BadRequestError || e instanceof SyntaxError ? 400 : 500;
    return reply(res, status, "text/plain", `${(e as Error).message}\n`);
  }
  reply(res, decision.overallCode === "OVER_LIMIT" ? 429 : 200, "application/json", JSON.stringify(toProtoJson(decision)));
}

/** protojson's shape: camelCase, zero values and absent messages left out, Duration as "59s". */
function toProtoJson(d: RateLimitDecision): Record<string, unknown> {
  return {
    overallCode: d.overallCode,
    statuses: d.statuses.map((s) => {
      const out: Record<string, unknown> = { code: s.code };
      if (s.currentLimit !== undefined) {
        const limit: Record<string, unknown> = { requestsPerUnit: s.currentLimit.requestsPerUnit, unit: s.currentLimit.unit };
        if (s.currentLimit.name !== "") limit.name = s.currentLimit.name;
        out.currentLimit = limit;
      }
      if (s.limitRemaining !== 0) out.limitRemaining = s.limitRemaining;
      if (s.durationUntilReset !== undefined) out.durationUntilReset = `${s.durationUntilReset}s`;
      return out;
    }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
