// What an external authorization check returns, whatever the protocol (HTTP service or gRPC
// Authorization/Check), and the header-name patterns of Istio's envoyExtAuthzHttp lists. Pure.
import type { HeaderPairs } from "../../../request/context.ts";

/** The authorizer allowed the request: edits for the upstream request and the client's response. */
export interface CheckOk {
  readonly kind: "ok";
  /** Set on the upstream request (replacing any of that name), or appended when `append`. */
  readonly upstreamHeaders: ReadonlyArray<readonly [string, string, boolean]>;
  readonly removeHeaders: readonly string[];
  /** Added to the response the client gets. */
  readonly downstreamHeaders: HeaderPairs;
}

/** The authorizer denied the request: what the client gets. */
export interface CheckDenied {
  readonly kind: "denied";
  readonly status: number;
  readonly headers: HeaderPairs;
  readonly body: string;
}

/** The check could not be made or answered (connect failure, timeout, bad answer). */
export interface CheckError {
  readonly kind: "error";
  readonly reason: string;
}

export type CheckOutcome = CheckOk | CheckDenied | CheckError;

/** What a check sends: the request as the authorizer sees it. */
export interface CheckInput {
  readonly method: string;
  /** Path with query, as received. */
  readonly path: string;
  readonly authority: string;
  readonly scheme: "http" | "https";
  readonly protocol: "HTTP/1.1" | "HTTP/2";
  readonly requestId: string;
  /** Lower-case name → value (repeated headers joined with `,`). */
  readonly headers: ReadonlyMap<string, string>;
  /** includeRequestBodyInCheck only (else undefined); at most maxRequestBytes. */
  readonly body: Buffer | undefined;
  /** gRPC: the body goes as bytes (raw_body) rather than text (body). */
  readonly packAsBytes: boolean;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly sourcePrincipal: string;
  readonly destinationAddress: string;
  readonly destinationPort: number;
  readonly destinationPrincipal: string;
}

/** A check client: one per provider and config, created once. */
export interface AuthzClient {
  check(input: CheckInput, timeoutMs: number): Promise<CheckOutcome>;
  close(): void;
}

/**
 * Istio's header-list patterns (envoyExtAuthzHttp includeRequestHeadersInCheck, headersTo…): exact,
 * `x*` prefix, `*x` suffix, compared case-insensitively. A lone `*` is rejected by validation.
 */
export class HeaderPatterns {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];
  private readonly suffixes: string[] = [];
  readonly empty: boolean;

  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      const p = raw.toLowerCase();
      if (p.length > 1 && p.endsWith("*")) this.prefixes.push(p.slice(0, -1));
      else if (p.length > 1 && p.startsWith("*")) this.suffixes.push(p.slice(1));
      else this.exact.add(p);
    }
    this.empty = patterns.length === 0;
  }

  matches(name: string): boolean {
    const n = name.toLowerCase();
    if (this.exact.has(n)) return true;
    for (const p of this.prefixes) if (n.startsWith(p)) return true;
    for (const s of this.suffixes) if (n.endsWith(s)) return true;
    return false;
  }
}
