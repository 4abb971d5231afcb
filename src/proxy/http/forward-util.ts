// Small pure helpers of the forwarding layer.

/** Methods a proxy may send twice (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "PUT" || method === "DELETE" || method === "TRACE";
}
