// The replica's leader role (control-plane replicas sharing etcd, `--store etcd://…`): one replica
// at a time is elected on an etcd lease (leader-election.ts, leader-term.ts) and runs the work
// that must happen once across replicas (history-compactor.ts). Loaded only with --store.
import type { Clock } from "../../core/clock.ts";
import type { EtcdStore } from "../store/etcd/etcd-store.ts";
import { HistoryCompactor } from "./history-compactor.ts";
import { LeaderElection, type LeaderStatus } from "./leader-election.ts";
import type { LeaderTiming } from "./leader-term.ts";

export type { LeaderStatus } from "./leader-election.ts";

export interface LeaderRoleOptions {
  replica: string;
  clock: Clock;
  timing: LeaderTiming;
  compactionIntervalMs: number;
  log: (line: string) => void;
}

export interface LeaderRole {
  status(): LeaderStatus;
  readonly election: LeaderElection;
  close(): Promise<void>;
}

export function startLeaderRole(etcd: EtcdStore, o: LeaderRoleOptions): LeaderRole {
  const client = etcd.connection;
  let compactor: HistoryCompactor | null = null;
  const election = new LeaderElection({
    client,
    key: `${etcd.url.prefix}leader`,
    replica: o.replica,
    clock: o.clock,
    timing: o.timing,
    log: o.log,
    onChange: (leading) => {
      if (compactor === null) return;
      if (leading) compactor.start();
      else compactor.stop();
    },
  });
  if (o.compactionIntervalMs > 0) {
    compactor = new HistoryCompactor({ client, probeKey: `${etcd.url.prefix}revision`, clock: o.clock, intervalMs: o.compactionIntervalMs, leading: () => election.leading, log: o.log });
  }
  election.start();
  return {
    election,
    status: () => election.status(),
    close: async () => {
      compactor?.stop();
      await election.close();
    },
  };
}
