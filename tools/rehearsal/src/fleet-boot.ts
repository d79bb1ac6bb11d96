/**
 * Booting the fleet: every host powered on at its planned offset (all at once, or shuffled over a spread, as a cloud
 * starts them) and its user-data applied, then
 * waiting for a writable leader and the mesh in every group, creating the application's schema, and a probe row
 * that must reach every other group.
 */
import { applyUserData } from './boot';
import { FleetAccess, literal } from './db';
import { waitHealthy } from './drills';
import { FleetGroup, RehearsalFleet } from './fleet';
import { TestHosts } from './hosts';
import { bootPlan, PlannedStart } from './boot-plan';
import { BootOrder, RehearsalReport } from './report';
import { localSecretBackend, RehearsalSecrets } from './secrets';
import { sleep, waitFor } from './shell';

/** The application's part: the tables the writers use, created the same way in every node group. */
function schemaSql(fleet: RehearsalFleet, table: string): string {
  const deltaTables = new Map<string, string[]>();
  for (const c of fleet.deltaApplyColumns) deltaTables.set(c.table, [...(deltaTables.get(c.table) ?? []), c.column]);
  const schemas = new Set([table, ...fleet.geoshards.map((g) => g.table), ...deltaTables.keys()].map((t) => t.split('.')[0]));
  return [
    ...[...schemas].map((s) => `CREATE SCHEMA IF NOT EXISTS ${s};`),
    `CREATE TABLE IF NOT EXISTS ${table} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), writer text NOT NULL, ` +
      'seq bigint NOT NULL, grp text NOT NULL, val bigint NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), ' +
      'arrived_at timestamptz);',
    `CREATE INDEX IF NOT EXISTS ${table.split('.').pop()}_writer_seq ON ${table} (writer, seq);`,
    // Replication lag, measured exactly (one clock for all hosts): each group stamps when a row arrived there, also
    // rows applied by the replication worker (ENABLE ALWAYS), against the origin's created_at.
    'CREATE OR REPLACE FUNCTION public.rehearsal_stamp_arrival() RETURNS trigger LANGUAGE plpgsql AS ' +
      "$$ BEGIN NEW.arrived_at := clock_timestamp(); RETURN NEW; END $$;",
    `CREATE OR REPLACE TRIGGER rehearsal_stamp_arrival BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION public.rehearsal_stamp_arrival();`,
    `ALTER TABLE ${table} ENABLE ALWAYS TRIGGER rehearsal_stamp_arrival;`,
    ...[...new Set(fleet.geoshards.map((g) => g.table))].map((t) =>
      `CREATE TABLE IF NOT EXISTS ${t} (id uuid NOT NULL DEFAULT gen_random_uuid(), region text NOT NULL, writer text, ` +
      'seq bigint, grp text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);'),
    // Balances updated concurrently in every group (the delta-apply drill). Created after the mesh, like every
    // application table: the engine's DDL trigger must apply the delta-apply setting to it.
    ...[...deltaTables].map(([t, columns]) =>
      `CREATE TABLE IF NOT EXISTS ${t} (id bigint PRIMARY KEY, ${columns.map((c) => `${c} bigint NOT NULL DEFAULT 0`).join(', ')});`),
  ].join('\n');
}

/** How the hosts start: the order, the latest offset and the seed that reproduces both. */
export interface BootHow {
  readonly order: BootOrder;
  readonly spreadSeconds: number;
  readonly seed: number;
  /**
   * A node group whose machines are not started with the others (the late-group drill): bootFleet brings up the rest
   * and returns a LateBoot that starts them when the drill says so, keeping their planned offsets relative to each other.
   */
  readonly lateGroup?: string;
}

/** The machines of a late node group, waiting to be started (see BootHow.lateGroup). */
export interface LateBoot {
  readonly group: FleetGroup;
  /** Seconds since the fleet's first host started. */
  readonly sinceFirstStartS: () => number;
  /**
   * Starts the late group's hosts, then waits until the whole fleet is a writable, replicating mesh (the late group
   * creates the application's schema once writable, as its deploy's migration would). Fills the report's boot figures.
   */
  readonly start: () => Promise<{ afterLastStartS: number }>;
}

export async function bootFleet(hosts: TestHosts, fleet: RehearsalFleet, access: FleetAccess, secrets: RehearsalSecrets,
  report: RehearsalReport, log: (line: string) => void, how: BootHow): Promise<LateBoot | undefined> {
  const plan = bootPlan(fleet.machines.map((m) => m.machine.name), how.order, how.spreadSeconds, how.seed);
  const groupOf = (name: string) => fleet.groups.find((g) => g.machines.some((m) => m.machine.name === name))!;
  const late = how.lateGroup === undefined ? undefined : fleet.groups.find((g) => g.name === how.lateGroup);
  if (how.lateGroup !== undefined && (!late || fleet.groups.length < 2)) {
    throw new Error(`boot: late group ${how.lateGroup}: the fleet must have it and at least one other node group`);
  }
  const boot: NonNullable<RehearsalReport['boot']> = {
    status: 'fail', order: how.order, seed: how.seed, spreadSeconds: how.spreadSeconds,
    hosts: plan.map((p) => ({ name: p.name, group: groupOf(p.name).name, startOffsetSeconds: p.startOffsetSeconds })), notes: [],
  };
  report.boot = boot;
  log(`boot: order ${how.order}, seed ${how.seed}, spread ${how.spreadSeconds} s: ` +
    plan.map((p) => `${p.name} +${p.startOffsetSeconds}s`).join(', ') + (late ? ` (node group ${late.name} held back for a drill: late-group or add-group)` : ''));
  const started = Date.now();
  const sinceStart = () => (Date.now() - started) / 1000;
  const backend = localSecretBackend(secrets.dir);
  const earlyGroups = fleet.groups.filter((g) => g !== late);
  const table = fleet.writerTable;
  if (!table) {
    report.problems.push('the stack replicates no global table: the rehearsal writes into the first one');
    return undefined;
  }
  // The fleet is usable once its groups are writable and replicate, which may come before every replica has finished
  // its bootstrap: the two are awaited side by side, and the boot passes only when both are done. Returns false when a
  // machine failed (the wait for the mesh is then stopped).
  const bringUp = async (starts: readonly PlannedStart[], groups: readonly FleetGroup[], among: readonly FleetGroup[],
    options: { schemaFirst?: boolean } = {}): Promise<boolean> => {
    const stop = new AbortController();
    const reached = awaitWritableMesh(access, fleet, groups, among, table, sinceStart, log, { ...options, signal: stop.signal })
      .then(() => sinceStart());
    // Handled here (it may fail before the hosts are done); awaited below, where its error counts.
    reached.catch(() => undefined);
    if (!(await startHosts(hosts, fleet, backend, report, starts, started, log))) {
      stop.abort();
      return false;
    }
    boot.toWritableMeshS = Number((await reached).toFixed(1));
    boot.afterLastStartS = Number((boot.toWritableMeshS - Math.max(...starts.map((p) => p.startOffsetSeconds))).toFixed(1));
    log(`boot: writable, replicating mesh after ${boot.toWritableMeshS} s, ${boot.afterLastStartS} s after the last host's start`);
    await waitHealthy({ access, fleet: { ...fleet, groups: [...among] } }, 300);
    boot.status = 'pass';
    return true;
  };
  if (!(await bringUp(plan.filter((p) => groupOf(p.name) !== late), earlyGroups, earlyGroups)) || !late) return undefined;
  boot.notes.push(`node group ${late.name} held back (late-group or add-group)`);
  return {
    group: late,
    sinceFirstStartS: sinceStart,
    start: async () => {
      const held = plan.filter((p) => groupOf(p.name) === late);
      const base = sinceStart() - Math.min(...held.map((p) => p.startOffsetSeconds));
      const shifted = held.map((p) => ({ name: p.name, startOffsetSeconds: Number((p.startOffsetSeconds + base).toFixed(1)) }));
      for (const p of shifted) boot.hosts.find((h) => h.name === p.name)!.startOffsetSeconds = p.startOffsetSeconds;
      boot.hosts.sort((x, y) => x.startOffsetSeconds - y.startOffsetSeconds);
      log(`boot: node group ${late.name} starts late: ${shifted.map((p) => `${p.name} +${p.startOffsetSeconds}s`).join(', ')}`);
      boot.status = 'fail';
      // Its deploy's migration creates the application's schema as soon as it is writable (native subscriptions
      // need the published tables to exist locally).
      if (!(await bringUp(shifted, [late], fleet.groups, { schemaFirst: true }))) {
        throw new Error(`node group ${late.name}: a machine failed to apply its user-data`);
      }
      return { afterLastStartS: boot.afterLastStartS! };
    },
  };
}

/** Starts each host at its offset after `started` and applies its user-data, as a cloud machine does. */
async function startHosts(hosts: TestHosts, fleet: RehearsalFleet, backend: string, report: RehearsalReport,
  plan: readonly PlannedStart[], started: number, log: (line: string) => void): Promise<boolean> {
  const boot = report.boot!;
  const applied = await Promise.allSettled(plan.map(async (p) => {
    const m = fleet.machines.find((x) => x.machine.name === p.name)!;
    await sleep(Math.max(0, started + p.startOffsetSeconds * 1000 - Date.now()));
    await hosts.boot(p.name);
    const r = await applyUserData(hosts, m, backend, 600_000);
    const entry = boot.hosts.find((h) => h.name === p.name)!;
    entry.bootstrapS = Number(r.runcmdS.toFixed(1));
    entry.bootstrapAttempts = r.attempts;
    log(`boot: ${p.name}: bootstrap complete ${r.runcmdS.toFixed(1)} s after its start (+${p.startOffsetSeconds} s)` +
      (r.attempts > 1 ? `, on attempt ${r.attempts}` : ''));
    return r;
  }));
  const failures = applied.filter((a): a is PromiseRejectedResult => a.status === 'rejected').map((a) => (a.reason as Error).message);
  if (failures.length) {
    report.problems.push(...failures);
    boot.notes.push(`${failures.length} machine(s) failed to apply their user-data`);
    return false;
  }
  const slowest = Math.max(...applied.map((a) => (a as PromiseFulfilledResult<{ runcmdS: number }>).value.runcmdS));
  boot.slowestBootstrapS = Number(Math.max(slowest, boot.slowestBootstrapS ?? 0).toFixed(1));
  return true;
}

/**
 * Waits until `groups` are writable and their mesh with every group of `among` replicates: the application's schema
 * (once the mesh is in place, or with `schemaFirst` as soon as writable), then a probe row from each of `groups` that
 * must reach every other group of `among`, and one from every other group that must reach each of `groups`.
 */
async function awaitWritableMesh(access: FleetAccess, fleet: RehearsalFleet, groups: readonly FleetGroup[], among: readonly FleetGroup[],
  table: string, sinceStart: () => number, log: (line: string) => void, options: { schemaFirst?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  const peers = among.length - 1;
  for (const g of groups) {
    await waitFor(`a writable leader in ${g.name}`, 600_000, async () => ((await access.query(g.name, 'SELECT NOT pg_is_in_recovery()', { timeoutMs: 8000 }))[0]?.[0] === 't' ? true : undefined), 1000, signal);
  }
  log(`boot: ${groups.map((g) => g.name).join(', ')} writable after ${sinceStart().toFixed(1)} s`);
  // Retried like an application would: a replica restarting right then (Patroni copies logical slots to replicas
  // by restarting them, several times during a first boot) can make the first connection attempt fail.
  const createSchema = async () => {
    for (const g of groups) {
      await waitFor(`the application schema in ${g.name}`, 120_000, async () => {
        await access.query(g.name, schemaSql(fleet, table));
        return true;
      }, 2000, signal);
    }
    log(`boot: application schema created in ${groups.map((g) => g.name).join(', ')} (${table})`);
  };
  if (options.schemaFirst) await createSchema();
  // As an operator would: the application creates its schema once the mesh is in place in every group.
  for (const g of among) {
    await waitFor(`the mesh in ${g.name} (node and replicating subscriptions)`, 300_000, async () => ((await access.meshReady(g.name, peers)) ? true : undefined), 1000, signal);
  }
  log(`boot: mesh set up in ${among.map((g) => g.name).join(', ')} after ${sinceStart().toFixed(1)} s`);
  if (!options.schemaFirst) await createSchema();
  if (fleet.engine === 'native') {
    // Native replication drops changes of a table its subscription does not list yet, so (as the README says for
    // native) the application waits until the mesh carries a new table before writing to it: in every group the
    // table is published and in every subscription (mesh-keeper adds it within seconds).
    for (const g of among) {
      await waitFor(`${table} in the publication and every subscription of ${g.name}`, 120_000, async () => {
        const [[missing]] = await access.query(g.name, `SELECT (SELECT count(*) FROM pg_subscription s WHERE s.subdbid = ` +
          `(SELECT oid FROM pg_database WHERE datname = current_database()) AND NOT EXISTS (SELECT 1 FROM pg_subscription_rel r ` +
          `WHERE r.srsubid = s.oid AND r.srrelid = ${literal(table)}::regclass AND r.srsubstate = 'r')) + ` +
          `(SELECT count(*) WHERE NOT EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = ${literal(table)}::regclass))`);
        return missing === '0' ? true : undefined;
      }, 1000, signal);
    }
    log(`boot: ${table} is in every group's publication and subscriptions`);
  }
  // Replicating: a probe row written in a group shows up in every other group (both ways for the groups waited for).
  const routes = among.flatMap((from) => among.filter((to) => to !== from && (groups.includes(from) || groups.includes(to))).map((to) => [from, to] as const));
  for (const from of among.filter((f) => routes.some(([x]) => x === f))) {
    const probe = `probe-${from.name}-${Date.now()}`;
    await waitFor(`a probe row in ${from.name}`, 120_000, async () => {
      await access.query(from.name, `INSERT INTO ${table} (writer, seq, grp) SELECT ${literal(probe)}, 1, ${literal(from.name)} ` +
        `WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE writer = ${literal(probe)})`);
      return true;
    }, 2000, signal);
    for (const [, to] of routes.filter(([x]) => x === from)) {
      await waitFor(`rows of ${from.name} to reach ${to.name}`, 300_000, async () => {
        const rows = await access.query(to.name, `SELECT count(*) FROM ${table} WHERE writer = ${literal(probe)}`, { timeoutMs: 8000 });
        return rows[0]?.[0] === '1' ? true : undefined;
      }, 500, signal);
    }
  }
}
