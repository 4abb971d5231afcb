// tcp_proxy (Envoy's terminal network filter): the listener's tcpRoute / sniRoutes pick the
// cluster and the bytes are relayed (tcp/tcp-proxy.ts). Always last in a listener's list.
import { NF_STOP, type NetworkFilter, type NetworkFilterStatus } from "../../network-filter.ts";
import { proxyTcpConnection } from "../../tcp-proxy.ts";

export const tcpProxyFilter: NetworkFilter = {
  name: "tcp_proxy",
  onConnection(c): NetworkFilterStatus {
    proxyTcpConnection(c.socket, c.listener, c.proxy, c.stats, c.opts);
    return NF_STOP;
  },
};
