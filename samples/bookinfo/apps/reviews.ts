// Bookinfo reviews, one file for the three versions Istio ships (its Java service):
//   REVIEWS_VERSION=v1  no ratings
//   REVIEWS_VERSION=v2  calls ratings, black stars
//   REVIEWS_VERSION=v3  calls ratings, red stars
// GET /reviews/<id> → {id, podname, clustername, reviews: [{reviewer, text, rating?}]}; GET /health.
//
// The ratings call times out after 10 s for black stars and 2.5 s for red, as upstream does (its
// timeout depends on the star colour); RATINGS_TIMEOUT_MS overrides both (tests use it). A failed
// or late ratings call gives each review {error: "Ratings service is currently unavailable"}.
import { hostname } from "node:os";
import { getJson } from "../../lib/get-json.ts";
import { propagate } from "../../lib/propagate.ts";
import { sendJson, serve } from "../../lib/serve.ts";

const VERSIONS: Record<string, { ratings: boolean; color: string }> = {
  v1: { ratings: false, color: "black" },
  v2: { ratings: true, color: "black" },
  v3: { ratings: true, color: "red" },
};
const version = process.env.REVIEWS_VERSION ?? "v1";
const config = VERSIONS[version];
if (!config) {
  process.stderr.write(`reviews: REVIEWS_VERSION must be v1, v2 or v3 (got ${JSON.stringify(version)})\n`);
  process.exit(2);
}
const ratingsUrl = (process.env.RATINGS_URL ?? "http://ratings:9080").replace(/\/+$/, "");
const ratingsTimeoutMs = Number(process.env.RATINGS_TIMEOUT_MS ?? (config.color === "black" ? 10_000 : 2_500));
const podname = process.env.AMIME_INSTANCE ?? process.env.HOSTNAME ?? hostname();
// Upstream prints Java's "null" when CLUSTER_NAME is unset; keep the same JSON.
const clustername = process.env.CLUSTER_NAME ?? "null";

const TEXTS = [
  ["Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"],
  ["Reviewer2", "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."],
] as const;

type Rating = { stars: number; color: string } | { error: string };

serve(`reviews-${version}`, 9080, async (req, res, url) => {
  if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" });
  if (url.pathname === "/health") return sendJson(res, 200, { status: "Reviews is healthy" });
  const m = /^\/reviews\/([^/]*)$/.exec(url.pathname);
  if (!m) return sendJson(res, 404, { error: "not found" });
  const id = m[1] ?? "";
  if (!/^-?\d+$/.test(id)) return sendJson(res, 400, { error: "please provide numeric product id" });

  let stars: Record<string, unknown> | undefined;
  if (config.ratings) stars = await fetchRatings(id, propagate(req.headers));
  const reviews = TEXTS.map(([reviewer, text]) => {
    if (!config.ratings) return { reviewer, text };
    const n = stars?.[reviewer];
    const rating: Rating = typeof n === "number" ? { stars: n, color: config.color } : { error: "Ratings service is currently unavailable" };
    return { reviewer, text, rating };
  });
  sendJson(res, 200, { id: String(Number(id)), podname, clustername, reviews });
});

async function fetchRatings(id: string, headers: Record<string, string>): Promise<Record<string, unknown> | undefined> {
  try {
    const r = await getJson(`${ratingsUrl}/ratings/${id}`, headers, ratingsTimeoutMs);
    if (r.status !== 200) {
      process.stdout.write(`reviews: ratings answered ${r.status}\n`);
      return undefined;
    }
    const ratings = (r.body as { ratings?: unknown } | undefined)?.ratings;
    return typeof ratings === "object" && ratings !== null ? (ratings as Record<string, unknown>) : undefined;
  } catch (e) {
    process.stdout.write(`reviews: ${(e as Error).message}\n`);
    return undefined;
  }
}
