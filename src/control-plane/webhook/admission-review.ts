// AdmissionReview v1 (admission.k8s.io/v1): what the Kubernetes API server posts to an admission
// webhook and what it expects back. Pure: reading a review (with a clear error for a malformed
// one) and writing the answer. The API server shows a denial as
// `admission webhook "<name>" denied the request: <status.message>` (status code 403 when none is
// given, as istiod gives none), and prints each of `warnings` as kubectl's "Warning: …" lines.
import { isObject, type JsonObject } from "../../model/resource.ts";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: Operation;
  /** The namespace of the request (the object's may be empty on CREATE). */
  namespace: string;
  /** The object as it would be stored (absent for DELETE). */
  object: JsonObject | null;
  dryRun: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { message: string };
  warnings?: string[];
  patchType?: "JSONPatch";
  /** Base64 of the JSON Patch (RFC 6902) text. */
  patch?: string;
}

export interface AdmissionReviewOut {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  response: AdmissionResponse;
}

/** The body is not an AdmissionReview v1 (layer: admission webhook). */
export class AdmissionReviewError extends Error {
  readonly code = "CP_WEBHOOK_BAD_REVIEW";
}

const OPERATIONS: readonly string[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

/** Read the request of an AdmissionReview v1 (already JSON-parsed); throws AdmissionReviewError. */
export function readReview(body: unknown): AdmissionRequest {
  if (!isObject(body)) throw new AdmissionReviewError("body is not a JSON object");
  if (body.apiVersion !== "admission.k8s.io/v1" || body.kind !== "AdmissionReview") {
    throw new AdmissionReviewError(`expected apiVersion admission.k8s.io/v1, kind AdmissionReview; got ${JSON.stringify(body.apiVersion)} ${JSON.stringify(body.kind)}`);
  }
  const req = body.request;
  if (!isObject(req)) throw new AdmissionReviewError("request: missing");
  if (typeof req.uid !== "string" || req.uid === "") throw new AdmissionReviewError("request.uid: missing");
  const kind = req.kind;
  if (!isObject(kind) || typeof kind.kind !== "string" || typeof kind.version !== "string") throw new AdmissionReviewError("request.kind: missing group/version/kind");
  if (typeof req.operation !== "string" || !OPERATIONS.includes(req.operation)) throw new AdmissionReviewError(`request.operation: ${JSON.stringify(req.operation)} is not one of ${OPERATIONS.join(", ")}`);
  if (req.object !== undefined && req.object !== null && !isObject(req.object)) throw new AdmissionReviewError("request.object: not an object");
  return {
    uid: req.uid,
    kind: { group: typeof kind.group === "string" ? kind.group : "", version: kind.version, kind: kind.kind },
    operation: req.operation as Operation,
    namespace: typeof req.namespace === "string" ? req.namespace : "",
    object: isObject(req.object) ? req.object : null,
    dryRun: req.dryRun === true,
  };
}

/** The answer to one request. */
export function reviewOf(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response };
}

export function allow(uid: string, warnings: readonly string[] = []): AdmissionResponse {
  return warnings.length > 0 ? { uid, allowed: true, warnings: [...warnings] } : { uid, allowed: true };
}

export function deny(uid: string, message: string, warnings: readonly string[] = []): AdmissionResponse {
  const r: AdmissionResponse = { uid, allowed: false, status: { message } };
  if (warnings.length > 0) r.warnings = [...warnings];
  return r;
}
