/**
 * The drills: each runs a bounded writer load in every node group, injects one fault, recovers, and then checks
 * that every acknowledged row is present at every node group (none lost, none duplicated), that no group ever had
 * two leaders, and that all groups converged to the same rows.
 *
 * One file per drill; what they share is in harness.ts. A new drill is a file exporting
 * `(env: DrillEnv) => Promise<DrillResult>` plus its entry in RUNNERS, whose order is the default run order.
 */
import { DrillResult } from '../report';
import { addGroup } from './add-group';
import { backupRestore } from './backup-restore';
import { baseline } from './baseline';
import { conflict } from './conflict';
import { deltaApply } from './delta-apply';
import { geoshard } from './geoshard';
import { interruptedBootstrap } from './interrupted-bootstrap';
import { DrillEnv, newResult, now } from './harness';
import { killLeaderMember } from './kill-leader-member';
import { killPostgres } from './kill-postgres';
import { lateGroup } from './late-group';
import { longPartition } from './long-partition';
import { meshUpdate } from './mesh-update';
import { metrics } from './metrics';
import { removeGroup } from './remove-group';
import { loseEtcd } from './lose-etcd';
import { partition } from './partition';
import { replaceLeaderMember, replaceSyncStandby } from './replace-member';
import { snowflake } from './snowflake';
import { failoverCampaign } from './failover-campaign';
import { providerWindow, subscriberWindow } from './windows';

export type { DrillEnv } from './harness';
export { LONG_PARTITION_DISK_MB } from './long-partition';
export { profileLabel, waitHealthy } from './harness';

const RUNNERS = {
  baseline,
  metrics,
  'kill-postgres': killPostgres,
  'kill-leader-member': killLeaderMember,
  'lose-etcd': loseEtcd,
  'replace-member': replaceSyncStandby,
  'replace-leader-member': replaceLeaderMember,
  'interrupted-bootstrap': interruptedBootstrap,
  partition,
  conflict,
  'delta-apply': deltaApply,
  snowflake,
  geoshard,
  'subscriber-window': subscriberWindow,
  'provider-window': providerWindow,
  'failover-campaign': failoverCampaign,
  'mesh-update': meshUpdate,
  'late-group': lateGroup,
  'add-group': addGroup,
  'remove-group': removeGroup,
  'backup-restore': backupRestore,
  'long-partition': longPartition,
} satisfies Record<string, (env: DrillEnv) => Promise<DrillResult>>;

export type DrillName = keyof typeof RUNNERS;
/** Every drill, in the order a rehearsal runs them. */
export const DRILLS = Object.keys(RUNNERS) as readonly DrillName[];
/**
 * Drills run only when named with --drills: the failover windows of issue 12 (they fail until those windows are
 * closed, and CI runs every default drill), the failover campaign (minutes per crash), mesh-update (it needs --next)
 * late-group and add-group (they change how the fleet boots: its last node group is held back and the drill runs
 * first; add-group needs --shrunk), remove-group (it needs --shrunk, and destroys a node group's machines: it runs
 * last) and long-partition (minutes of bulk writes on small data disks, and it leaves its node group needing a re-sync:
 * it runs after the others but remove-group).
 */
export const OPT_IN_DRILLS: readonly DrillName[] = [
  'subscriber-window', 'provider-window', 'failover-campaign', 'mesh-update', 'late-group', 'add-group', 'remove-group', 'backup-restore',
  'long-partition',
];
/**
 * Drills that restore a node group's backup on a spare test host (planned at boot beside the fleet, booted by the
 * drill). backup-restore is opt-in: minutes of backup and restore, and a leader crash.
 */
export const RESTORE_DRILLS: readonly DrillName[] = ['backup-restore'];
/** Drills that hold the fleet's last node group back at boot (at most one per rehearsal). */
export const HOLD_BACK_DRILLS: readonly DrillName[] = ['late-group', 'add-group'];
/**
 * The order named drills run in: as named, but late-group and add-group first (they hold the fleet's last node group
 * back at boot), long-partition (it leaves a node group needing a re-sync) and remove-group (it destroys a node
 * group's machines) last.
 */
export function runOrder(named: readonly DrillName[]): DrillName[] {
  if (HOLD_BACK_DRILLS.every((d) => named.includes(d))) {
    throw new Error(`${HOLD_BACK_DRILLS.join(' and ')} both hold the fleet's last node group back at boot: run them in separate rehearsals`);
  }
  const first: DrillName[] = [...HOLD_BACK_DRILLS];
  const last: DrillName[] = ['long-partition', 'remove-group'];
  return [...first.filter((d) => named.includes(d)), ...named.filter((d) => !first.includes(d) && !last.includes(d)),
    ...last.filter((d) => named.includes(d))];
}

/** What a rehearsal runs without --drills. */
export const DEFAULT_DRILLS = DRILLS.filter((d) => !OPT_IN_DRILLS.includes(d));
/** Drills whose figures depend on Patroni's timing: repeated for each timing profile rehearsed. */
export const FAILOVER_DRILLS: DrillName[] = ['kill-postgres', 'kill-leader-member'];

/** Patroni's documented defaults (what a fleet without a timing profile runs). */
export const PATRONI_DEFAULT_TIMING = { ttl: 30, loopWait: 10, retryTimeout: 10 };

export async function runDrill(name: DrillName, env: DrillEnv): Promise<DrillResult> {
  const started = now();
  env.drillNumber++;
  try {
    return await RUNNERS[name](env);
  } catch (e) {
    await Promise.all([...env.active].map((w) => w.stop()));
    env.active.clear();
    // A drill that failed while hosts were cut off (partition, window drills) must not leave the cut to the next one.
    await env.hosts.heal().catch(() => undefined);
    const r = newResult(name, env);
    r.status = 'error';
    r.durationS = Number((now() - started).toFixed(1));
    r.notes.push((e as Error).message.split('\n').slice(0, 8).join(' | '));
    return r;
  }
}
