// The replica's leader role (control-plane replicas sharing etcd, `--store etcd://…`): one replica
// at a time is elected on an etcd lease (leader-election.ts, leader-term.ts) and runs the work
// that must happen once across replicas: compaction of etcd's history (history-compactor.ts) and
// removal of registrations whose proxy is gone (registration-reaper.ts). Loaded only with --store.
import type { Clock } from "../../core/clock.ts";
import type { EtcdStore } from "../store/etcd/etcd-store.ts";
import { HistoryCompactor } from "./history-compactor.ts";
import { LeaderElection, type LeaderStatus } from "./leader-election.ts";
import type { LeaderTiming } from "./leader-term.ts";
import { RegistrationReaper } from "./registration-reaper.ts";

export type { LeaderStatus } from "./leader-election.ts";

export interface LeaderRoleOptions {
  replica: string;
  clock: Clock;
  timing: LeaderTiming;
  compactionIntervalMs: number;
  /** Registrations whose proxy had no stream at any replica this long are removed (0: never). */
  registrationCleanupGraceMs: number;
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
  let reaper: RegistrationReaper | null = null;
  const election = new LeaderElection({
    client,
    key: `${etcd.url.prefix}leader`,
    replica: o.replica,
    clock: o.clock,
    timing: o.timing,
    log: o.log,
    onChange: (leading) => {
      for (const work of [compactor, reaper]) {
        if (work === null) continue;
        if (leading) work.start();
        else work.stop();
      }
    },
  });
  if (o.compactionIntervalMs > 0) {
    compactor = new HistoryCompactor({ client, probeKey: `${etcd.url.prefix}revision`, clock: o.clock, intervalMs: o.compactionIntervalMs, leading: () => election.leading, log: o.log });
  }
  if (o.registrationCleanupGraceMs > 0) {
    reaper = new RegistrationReaper({ client, prefix: etcd.url.prefix, clock: o.clock, graceMs: o.registrationCleanupGraceMs, leading: () => election.leading, log: o.log });
  }
  election.start();
  return {
    election,
    status: () => election.status(),
    close: async () => {
      compactor?.stop();
      reaper?.stop();
      await election.close();
    },
  };
}
