// Check: a Service port's appProtocol is one Istio knows (AMM1016). Istio reads appProtocol instead
// of the port name when it is set, so an unknown value (`h2c` for `kubernetes.io/h2c`, `websocket`)
// silently turns a declared port into an undeclared one: inbound traffic is sniffed and outbound
// requests go upstream over HTTP/1.1, which an h2c-only server answers with an error (502).
// A warning when it overrides a protocol the port name declares, info otherwise.
import { suggestField } from "../checks/fields.ts";
import { portProtocol, type ServicePort } from "../../model/specs/kubernetes.ts";
import { AnalyzerCodes } from "../analyzer-codes.ts";
import type { AnalysisContext, Check } from "./context.ts";
import { arr, obj, specOf, str } from "./json.ts";

/** appProtocol values Istio understands (protocol.Parse, plus Kubernetes' standard names); a known prefix before "-" counts too. */
export const KNOWN_APP_PROTOCOLS = [
  "http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "mongo", "mysql", "redis", "udp", "http_proxy",
  "kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss",
] as const;

export const appProtocolCheck: Check = {
  name: "app-protocol",
  run(ctx: AnalysisContext): void {
    for (const r of ctx.ofKind("Service", "")) {
      arr(specOf(r.body).ports).forEach((item, i) => {
        const p = obj(item);
        const appProtocol = str(p?.appProtocol);
        if (!p || appProtocol === undefined || appProtocol === "") return;
        const port: ServicePort = { ...(str(p.name) !== undefined ? { name: str(p.name) } : {}), ...(str(p.protocol) === "UDP" ? { protocol: "UDP" as const } : {}) };
        if (port.protocol === "UDP" || portProtocol({ ...port, appProtocol }) !== "unknown") return;
        const byName = portProtocol(port);
        const guess = suggestField(appProtocol.replace(/^.*\//, ""), KNOWN_APP_PROTOCOLS.map((k) => k.replace(/^kubernetes\.io\//, "")));
        const suggestion = guess ? KNOWN_APP_PROTOCOLS.find((k) => k === guess || k === `kubernetes.io/${guess}`) : undefined;
        const overrides = byName !== "unknown" ? `It replaces the protocol of the port name ${JSON.stringify(port.name)} (${byName}), so the port is treated as undeclared` : "The port is treated as undeclared";
        ctx.report(r, byName !== "unknown" ? "warning" : "info", AnalyzerCodes.unknownAppProtocol, ["spec", "ports", i, "appProtocol"],
          `appProtocol ${JSON.stringify(appProtocol)} is not a protocol Istio knows (${KNOWN_APP_PROTOCOLS.join(", ")}, or one of them followed by "-suffix"). ${overrides}: inbound connections are sniffed and outbound requests go to it over HTTP/1.1, which an HTTP/2-only (h2c) or TCP server answers with an error (502).${suggestion ? ` Did you mean ${JSON.stringify(suggestion)}?` : ""}`);
      });
    }
  },
};
