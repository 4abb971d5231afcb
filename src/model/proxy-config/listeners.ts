// Listeners (LDS): address, protocol, connection limits, the HTTP and network filter lists, TLS
// termination (SNI routes, downstream certificates) and x-forwarded-client-cert. Pure data.
import type { WeightedCluster } from "./routes.ts";

export type ListenerDirection = "outbound" | "inbound" | "gateway";

export interface Listener {
  name: string;
  direction: ListenerDirection;
  address: string;
  /** 0 = pick a free port (tests). */
  port: number;
  /**
   * http: HTTP/1.1 and HTTP/2 (h2c prior knowledge; ALPN h2 with `tls`). tcp: bytes to `tcpRoute`.
   * auto: protocol detection per connection (docs/protocols.md): h2c / HTTP/1.x → routeConfigName,
   * a TLS ClientHello or anything else (or nothing within the bound) → tcpRoute.
   */
  protocol: "http" | "tcp" | "auto";
  /** auto listeners: how long to wait for the client's first bytes; default 100. */
  protocolDetectionTimeoutMs?: number;
  /**
   * Open connections this listener accepts; past it new ones are closed at accept and counted
   * (Envoy's per-listener connection limit, `downstream_cx_overflow`). Absent = no limit.
   */
  connectionLimit?: number;
  /**
   * HTTP/1.1: a request head must be complete this long after its first byte, else 408 and the
   * connection closes (Envoy HCM `request_headers_timeout`, `downstream_rq_header_timeout`).
   * Absent or 0 = off.
   */
  requestHeadersTimeoutMs?: number;
  /** For http listeners: the RouteConfiguration to use. */
  routeConfigName?: string;
  /** For tcp listeners: where to send connections (weighted). */
  tcpRoute?: { clusters: WeightedCluster[]; idleTimeoutMs?: number };
  /**
   * For tcp listeners: TLS routes by SNI (VirtualService `tls`; passthrough, the proxy never
   * decrypts). The ClientHello's server name picks the first entry with a matching name (exact,
   * `*.suffix`, `*`); no match, no SNI or not TLS → tcpRoute. docs/protocols.md
   */
  sniRoutes?: SniRoute[];
  /**
   * Inbound listeners: the PeerAuthentication mode of the port (absent: PERMISSIVE, mTLS and
   * plaintext). STRICT: plaintext connections are closed; DISABLE: no mTLS termination. docs/security.md
   */
  mtls?: "STRICT" | "PERMISSIVE" | "DISABLE";
  /** TLS termination in front of an http listener (Gateway HTTPS servers) or a tcp one (Gateway TLS servers that do not pass through). docs/security.md */
  tls?: DownstreamTlsConfig;
  /**
   * x-forwarded-client-cert on http/auto listeners (Envoy's forward_client_cert_details and
   * set_current_client_cert_details). Absent: Istio's sidecar defaults — APPEND_FORWARD with
   * Subject, URI, DNS on inbound mTLS connections, removed everywhere else (SANITIZE). Gateways get
   * Istio's SANITIZE_SET with Subject, Cert, URI, DNS unless MeshConfig
   * `defaultConfig.gatewayTopology.forwardClientCertDetails` says otherwise. docs/security.md
   */
  xfcc?: ListenerXfcc;
  /**
   * For http and auto listeners: the ordered HTTP filters every request runs after the route
   * lookup (Envoy's http_filters), each by registered name with its config; the last is
   * "router". Absent: cors → fault → router. An unknown name rejects the config.
   */
  httpFilters?: HttpFilterConfig[];
  /**
   * For tcp listeners and the TCP side of auto listeners: the ordered network (L4) filters every
   * connection runs, by registered name with its config; the last is "tcp_proxy". Absent:
   * tcp_proxy alone. An unknown name rejects the config.
   */
  networkFilters?: HttpFilterConfig[];
}

/** One filter of a listener's list (HTTP or network). */
export interface HttpFilterConfig {
  name: string;
  config?: unknown;
}

/** One TLS route of a tcp listener: server names (SNI) → weighted clusters. */
export interface SniRoute {
  serverNames: string[];
  clusters: WeightedCluster[];
}

/** Envoy's forward_client_cert_details values (MeshConfig's ForwardClientCertDetails without UNDEFINED). */
export type ForwardClientCertDetails = "SANITIZE" | "FORWARD_ONLY" | "APPEND_FORWARD" | "SANITIZE_SET" | "ALWAYS_FORWARD_ONLY";

export interface ListenerXfcc {
  forward: ForwardClientCertDetails;
  /** The element's details for APPEND_FORWARD / SANITIZE_SET (By and Hash are always there). */
  details?: { subject?: boolean; cert?: boolean; uri?: boolean; dns?: boolean };
}

/** Server-side TLS of a listener: a certificate per server, chosen by SNI. */
export interface DownstreamTlsConfig {
  /** First entry whose hosts match the SNI wins (exact, then `*.suffix`, then `*`); no SNI or no match: the first. */
  servers: DownstreamTlsServer[];
  minProtocolVersion?: "TLSv1.2" | "TLSv1.3";
}

export interface DownstreamTlsServer {
  /** SNI names (Gateway server hosts without their namespace part). */
  hosts: string[];
  /**
   * SIMPLE: server certificate only; MUTUAL: clients must present a certificate signed by the CA;
   * OPTIONAL_MUTUAL: a client certificate is asked for, and verified when one is presented.
   * ISTIO_MUTUAL: the proxy's own workload certificate; clients must present a mesh certificate
   * (chained to the trust bundle, not on the deny list). No file or credential fields.
   */
  mode: "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL" | "ISTIO_MUTUAL";
  /** Certificate files (watched; new handshakes use a changed file). Either these or credentialName. */
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  /** A secret in the proxy's secret store (`--secret-dir`), looked up in the proxy's namespace. docs/security.md */
  credentialName?: string;
  /** CRL file (PEM): client certificates it lists are refused (MUTUAL, OPTIONAL_MUTUAL). */
  caCrl?: string;
  /** MUTUAL: the client certificate must carry one of these SANs (any when empty). */
  subjectAltNames?: string[];
}
