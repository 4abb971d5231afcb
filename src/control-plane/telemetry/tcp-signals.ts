// TCP traffic from two scrapes of Istio's TCP counters (istio_tcp_connections_opened_total,
// istio_tcp_sent_bytes_total, istio_tcp_received_bytes_total): per label set, connections opened
// and bytes each way per second — what the graph draws on a TCP edge instead of requests, errors
// and latency (TCP has neither). Pure functions over plain data.
import type { Family } from "./prometheus-parse.ts";

/** One TCP label set's counters at one scrape. */
export interface TcpPoint {
  labels: Record<string, string>;
  opened: number;
  /** Bytes sent to the downstream (the response direction). */
  sent: number;
  /** Bytes received from the downstream (the request direction). */
  received: number;
}

export interface TcpDelta extends TcpPoint {
  seconds: number;
}

export interface TcpSignals {
  connections: number;
  /** Connections opened per second. */
  cps: number;
  sentBps: number;
  receivedBps: number;
}

export const TCP_OPENED = "istio_tcp_connections_opened_total";
export const TCP_SENT = "istio_tcp_sent_bytes_total";
export const TCP_RECEIVED = "istio_tcp_received_bytes_total";

/** The TCP families of one scrape, folded into one point per label set. */
export function tcpPoints(fams: ReadonlyMap<string, Family>, keyOf: (labels: Record<string, string>) => string): Map<string, TcpPoint> {
  const out = new Map<string, TcpPoint>();
  const add = (family: string, field: "opened" | "sent" | "received"): void => {
    for (const s of fams.get(family)?.samples ?? []) {
      const key = keyOf(s.labels);
      let p = out.get(key);
      if (p === undefined) out.set(key, (p = { labels: s.labels, opened: 0, sent: 0, received: 0 }));
      p[field] = s.value;
    }
  };
  add(TCP_OPENED, "opened");
  add(TCP_SENT, "sent");
  add(TCP_RECEIVED, "received");
  return out;
}

/** Increase per label set; a counter that went down (proxy restart) counts from zero. */
export function tcpDeltas(a: ReadonlyMap<string, TcpPoint> | undefined, b: ReadonlyMap<string, TcpPoint> | undefined, seconds: number): TcpDelta[] {
  const out: TcpDelta[] = [];
  if (b === undefined) return out;
  for (const [key, pb] of b) {
    const pa = a?.get(key);
    const reset = pa === undefined || pb.opened < pa.opened || pb.sent < pa.sent || pb.received < pa.received;
    const d: TcpDelta = reset
      ? { labels: pb.labels, opened: pb.opened, sent: pb.sent, received: pb.received, seconds }
      : { labels: pb.labels, opened: pb.opened - pa.opened, sent: pb.sent - pa.sent, received: pb.received - pa.received, seconds };
    if (pa !== undefined && d.opened <= 0 && d.sent <= 0 && d.received <= 0) continue;
    out.push(d);
  }
  return out;
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

/** Sum a group of deltas (rates over the group's longest interval). */
export function tcpSignals(group: readonly TcpDelta[]): TcpSignals {
  let opened = 0;
  let sent = 0;
  let received = 0;
  let seconds = 0;
  for (const d of group) {
    opened += d.opened;
    sent += d.sent;
    received += d.received;
    seconds = Math.max(seconds, d.seconds);
  }
  const per = seconds > 0 ? 1 / seconds : 0;
  return { connections: opened, cps: r3(opened * per), sentBps: r3(sent * per), receivedBps: r3(received * per) };
}
