import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "../../model/resource.ts";
import { ingressHttpsPorts, ingressServerPorts } from "./gateway.ts";

const gateway = (selector: Record<string, string>, servers: { number: number; protocol: string }[]): Resource =>
  ({ kind: "Gateway", group: "networking.istio.io", body: { spec: { selector, servers: servers.map((port) => ({ port, hosts: ["*"] })) } } }) as unknown as Resource;

describe("ingress gateway ports of the local mesh", () => {
  it("HTTP server ports first, then HTTPS ones; TLS passthrough and other gateways' ports are not mapped", () => {
    const resources = [
      gateway({ istio: "ingressgateway" }, [{ number: 8443, protocol: "HTTPS" }, { number: 8080, protocol: "HTTP" }, { number: 9000, protocol: "TLS" }]),
      gateway({ istio: "ingressgateway" }, [{ number: 443, protocol: "https" }, { number: 80, protocol: "HTTP2" }]),
      gateway({ istio: "egressgateway" }, [{ number: 7443, protocol: "HTTPS" }]),
    ];
    assert.deepEqual(ingressServerPorts(resources), [80, 8080, 443, 8443]);
    assert.deepEqual(ingressHttpsPorts(resources), [443, 8443]);
  });
});
