// Counters of one cluster, named as Envoy's `cluster.<name>.*` stats so dashboards and habits
// carry over. Plain numeric fields: incrementing one on the hot path is a property store.

export class ClusterStats {
  upstream_cx_total = 0;
  upstream_cx_active = 0;
  upstream_cx_connect_fail = 0;
  upstream_cx_overflow = 0;
  /** Bytes received from / sent to upstream connections (TCP proxying counts them; HTTP does not yet). */
  upstream_cx_rx_bytes_total = 0;
  upstream_cx_tx_bytes_total = 0;
  upstream_rq_total = 0;
  upstream_rq_active = 0;
  upstream_rq_pending_active = 0;
  upstream_rq_pending_overflow = 0;
  upstream_rq_retry = 0;
  upstream_rq_retry_overflow = 0;
  upstream_rq_retry_limit_exceeded = 0;
  upstream_rq_timeout = 0;
  upstream_rq_per_try_timeout = 0;
  upstream_rq_rx_reset = 0;
  upstream_rq_1xx = 0;
  upstream_rq_2xx = 0;
  upstream_rq_3xx = 0;
  upstream_rq_4xx = 0;
  upstream_rq_5xx = 0;
  upstream_rq_retries_active = 0;
  upstream_rq_mirror = 0;

  countStatus(status: number): void {
    if (status < 200) this.upstream_rq_1xx++;
    else if (status < 300) this.upstream_rq_2xx++;
    else if (status < 400) this.upstream_rq_3xx++;
    else if (status < 500) this.upstream_rq_4xx++;
    else this.upstream_rq_5xx++;
  }
}

/** Counters of the downstream side (all HTTP listeners of a proxy). */
export class DownstreamStats {
  downstream_cx_total = 0;
  downstream_cx_active = 0;
  downstream_cx_protocol_error = 0;
  downstream_rq_total = 0;
  downstream_rq_active = 0;
  downstream_rq_1xx = 0;
  downstream_rq_2xx = 0;
  downstream_rq_3xx = 0;
  downstream_rq_4xx = 0;
  downstream_rq_5xx = 0;
  downstream_rq_timeout = 0;
  /** HTTP/1.1 request heads not complete within the listener's requestHeadersTimeoutMs (408). */
  downstream_rq_header_timeout = 0;
  /** Requests that hit a bug in a pipeline layer (answered 500; the process keeps serving). */
  downstream_rq_internal_error = 0;

  countStatus(status: number): void {
    if (status < 200) this.downstream_rq_1xx++;
    else if (status < 300) this.downstream_rq_2xx++;
    else if (status < 400) this.downstream_rq_3xx++;
    else if (status < 500) this.downstream_rq_4xx++;
    else this.downstream_rq_5xx++;
  }
}
