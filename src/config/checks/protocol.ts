// Port protocols and port names (Istio's protocol.Parse is case-insensitive).

const PROTOCOLS = new Set(["tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls", "mongo", "redis", "mysql"]);

export function isKnownProtocol(p: string): boolean {
  return PROTOCOLS.has(p.toLowerCase());
}

export function isHttpProtocol(p: string): boolean {
  return ["http", "http2", "grpc", "grpc-web", "http_proxy"].includes(p.toLowerCase());
}

export function isTlsProtocol(p: string): boolean {
  return ["https", "tls"].includes(p.toLowerCase());
}

/** An empty protocol means "detect". */
export function protocolError(p: string): string | null {
  return p === "" || isKnownProtocol(p) ? null : `unsupported protocol: ${p}`;
}

const LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export function portNameError(name: string): string | null {
  return name.length <= 63 && LABEL.test(name) ? null : `invalid port name: ${name}`;
}
