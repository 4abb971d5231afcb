// Counters of one TCP listener, named after Envoy's `tcp.<stat_prefix>.*` / listener stats.
export class TcpListenerStats {
  downstream_cx_total = 0;
  downstream_cx_active = 0;
  /** No route, no cluster or no healthy upstream: closed without dialing. */
  downstream_cx_no_route = 0;
  /** Refused by the cluster's maxConnections (Envoy's UO). */
  downstream_cx_overflow = 0;
  downstream_cx_idle_timeout = 0;
  downstream_cx_rx_bytes_total = 0;
  downstream_cx_tx_bytes_total = 0;
}
