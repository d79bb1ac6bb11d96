/**
 * Resume slots (the subscriber-side failover window of pglogical and Spock) on a real PostgreSQL 15 with Debian's
 * pglogical 2: one throwaway instance, a provider database and a subscriber database with a real subscription
 * between them. The shipped SQL files (as the cloud-config carries them) are run as mesh-keeper and pre-promote run
 * them; the state a promoted standby is in (an origin behind what the provider's slot confirmed, and the rows in
 * between absent) is made by hand, and the rewind must bring those rows again.
 */
import { spawn } from 'child_process';
import { chmodSync } from 'fs';
import { pglogicalSlotName } from '../../lib/render/mesh';
import { PAUSE_LIMIT_SECONDS } from '../../lib/render/mesh/pglogical-like';
import { pglogicalFleet } from '../fixtures/fleets';
import { fileOf, PG15_BIN, throwawayPostgres, topologyOf, writeTemp, bootCloudConfig } from './helpers';


describe('resume slots on PostgreSQL 15 + pglogical 2 (provider and subscriber databases)', () => {
  const pg = throwawayPostgres('resume', 40000, ['shared_preload_libraries=pglogical', 'wal_level=logical',
    'track_commit_timestamp=on', 'max_replication_slots=10', 'max_wal_senders=10']);
  const { root, psql, value, dsn } = pg;
  const text = bootCloudConfig(topologyOf(pglogicalFleet()), 'rehearse-b-pg1');
  const sqlFile = (name: string) => {
    const path = writeTemp(root, name, fileOf(text, `/etc/distributed-postgres/mesh/${name}`));
    chmodSync(path, 0o644);
    return path;
  };
  // The subscription as the mesh names it (pglogical computes the slot name; the resume slot adds _r).
  const slot = pglogicalSlotName('app', 'a', 'sub_b_a');
  const resume = `${slot}_r`;

  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const got = probe();
      if (got !== undefined) return got;
      if (Date.now() > end) {
        throw new Error(`timed out waiting for ${what}; server log:\n${pg.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const rowsAt = (db: string) => Number(value(db, 'SELECT count(*) FROM items'));

  beforeAll(async () => {
    pg.start();
    // As post-bootstrap does: allow pglogical's output plugin where the server has output_plugin_libraries.
    expect(psql('postgres', ['-v', 'ON_ERROR_STOP=1', '-v', 'plugin=pglogical_output', '-f', sqlFile('allow-output-plugin.sql')]).code).toBe(0);
    // The provider database is node a (the subscription's provider); the subscriber database "app" is node b.
    value('postgres', 'CREATE DATABASE prov');
    value('postgres', 'CREATE DATABASE app');
    for (const [db, node] of [['prov', 'a'], ['app', 'b']]) {
      expect(psql(db, ['-v', 'ON_ERROR_STOP=1'], [
        'CREATE EXTENSION pglogical;',
        `SELECT pglogical.create_node(node_name := '${node}', dsn := '${dsn(db)}');`,
        'CREATE TABLE items (id bigint PRIMARY KEY, v text);',
      ].join('\n')).code).toBe(0);
    }
    value('prov', "SELECT pglogical.replication_set_add_table('default', 'items')");
    // pglogical names the slot after the subscriber database: "prov" here would be "app" on a fleet; the slot is
    // created on the provider under pglogical's own name, so read it back.
    value('app', `SELECT pglogical.create_subscription(subscription_name := 'sub_b_a', provider_dsn := '${dsn('prov')}', ` +
      "replication_sets := ARRAY['default'], synchronize_structure := false, synchronize_data := false, forward_origins := '{}')");
    await until('the subscription to replicate', () =>
      value('app', "SELECT status FROM pglogical.show_subscription_status('sub_b_a')") === 'replicating' ? true : undefined);
  }, 120_000);

  afterAll(() => pg.stop());

  test('the slot is the one the mesh names, so Patroni keeps it and its resume slot', () => {
    expect(value('app', 'SELECT sub_slot_name FROM pglogical.subscription')).toBe(slot);
    expect(value('prov', `SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${slot}'`)).toBe('1');
  });

  test('marks, advance, inspect and rewind: a member whose origin is behind the provider slot gets the rows in between again', async () => {
    // Patroni creates the resume slot on the provider (a permanent slot).
    value('prov', `SELECT 1 FROM pg_create_logical_replication_slot('${resume}', 'pglogical_output')`);
    value('prov', "INSERT INTO items SELECT g, 'first' FROM generate_series(1, 10) g");
    await until('rows 1-10 at the subscriber', () => (rowsAt('app') === 10 ? true : undefined));

    // mesh-keeper on the subscriber's leader: no standby here, so the target is this leader's own flushed origin.
    const marks = () => psql('app', ['-v', 'ON_ERROR_STOP=1', '-F', '\t', '-f', sqlFile('resume-marks.sql')]);
    expect(marks().code).toBe(0);
    const line = marks().stdout.trim().split('\n').filter(Boolean);
    expect(line).toHaveLength(1);
    const [markSlot, markResume, markDsn, target] = line[0].split('\t');
    expect([markSlot, markResume, markDsn]).toEqual([slot, resume, dsn('prov')]);
    expect(target).toBe(value('app', `SELECT pg_replication_origin_progress('${slot}', true)`));
    // ...and on the provider: the resume slot moves to that target, and only forward.
    for (let i = 0; i < 2; i++) {
      expect(psql('prov', ['-v', 'ON_ERROR_STOP=1', '-v', `slot=${resume}`, '-v', `lsn=${target}`, '-f', sqlFile('resume-advance.sql')]).code).toBe(0);
    }
    expect(value('prov', `SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '${resume}'`)).toBe(target);
    expect(psql('prov', ['-v', 'ON_ERROR_STOP=1', '-v', `slot=${resume}`, '-v', 'lsn=0/1', '-f', sqlFile('resume-advance.sql')]).code).toBe(0);
    expect(value('prov', `SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '${resume}'`)).toBe(target);
    // What pre-promote reads on the member: each enabled subscription with its origin position.
    const positions = psql('app', ['-v', 'ON_ERROR_STOP=1', '-F', '\t', '-f', sqlFile('resume-positions.sql')]).stdout.trim().split('\t');
    expect(positions).toEqual([slot, resume, dsn('prov'), value('app', `SELECT pg_replication_origin_progress('${slot}', false)`)]);

    // Rows 11-20 reach the subscriber, and the provider's slot confirms them.
    value('prov', "INSERT INTO items SELECT g, 'second' FROM generate_series(11, 20) g");
    const end = value('prov', 'SELECT pg_current_wal_lsn()');
    await until('rows 11-20 at the subscriber', () => (rowsAt('app') === 20 ? true : undefined));
    await until('the provider slot to confirm them', () =>
      value('prov', `SELECT confirmed_flush_lsn >= '${end}' FROM pg_replication_slots WHERE slot_name = '${slot}'`) === 't' ? true : undefined);

    // The state of a promoted standby that never received rows 11-20: its origin at the target, the rows absent.
    value('app', "SELECT pglogical.alter_subscription_disable('sub_b_a', true)");
    await until('the provider slot to be released', () =>
      value('prov', `SELECT active FROM pg_replication_slots WHERE slot_name = '${slot}'`) === 'f' ? true : undefined);
    value('app', 'DELETE FROM items WHERE id > 10');
    value('app', `SELECT pg_replication_origin_advance('${slot}', '${target}')`);

    // pre-promote: the member's position (checked above while replicating), the verdict at the provider, the rewind.
    const origin = target;
    const inspect = (at: string) => psql('prov', ['-v', 'ON_ERROR_STOP=1', '-F', ' ', '-v', `slot=${slot}`, '-v', `resume=${resume}`,
      '-v', `origin=${at}`, '-f', sqlFile('resume-inspect.sql')]).stdout.trim().split(' ')[0];
    expect(inspect(origin)).toBe('rewind');
    expect(inspect('0/1')).toBe('resume-slot-ahead');
    expect(inspect('FFFFFFFF/0')).toBe('in-step');
    const rewind = psql('prov', ['-v', 'ON_ERROR_STOP=1', '-v', `slot=${slot}`, '-v', `resume=${resume}`, '-f', sqlFile('resume-rewind.sql')]);
    expect(rewind.stderr).toBe('');
    expect(value('prov', `SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '${slot}'`)).toBe(target);
    expect(inspect(origin)).toBe('in-step');

    // The promoted member's apply worker starts: rows 11-20 come again, and nothing twice.
    value('app', "SELECT pglogical.alter_subscription_enable('sub_b_a', true)");
    await until('rows 11-20 sent again', () => (rowsAt('app') === 20 ? true : undefined), 60_000);
    expect(value('app', "SELECT count(*) FROM items WHERE v = 'second'")).toBe('10');
  }, 180_000);

  test('the provider side: a subscriber origin past the promoted provider\'s end of WAL is set back to it, and only then', async () => {
    // What pre-promote reads on the member about to be promoted: its node, then the DSN of each group it subscribes to.
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1', '-f', sqlFile('resume-peers.sql')]).stdout.trim().split('\n')).toEqual(['b', dsn('prov')]);
    const progress = () => value('app', `SELECT pg_replication_origin_progress('${slot}', false)`);
    const rewindOrigin = (lsn: string, pid = '0', onlyEnable = 'false', onlyDisable = 'false') => psql('app', ['-v', 'provider=a', '-v', `lsn=${lsn}`,
      '-v', `pid=${pid}`, '-v', `only_enable=${onlyEnable}`, '-v', `only_disable=${onlyDisable}`, '-f', sqlFile('resume-rewind-origin.sql')]);
    const now = progress();
    // Not past the end: nothing done.
    expect(rewindOrigin('FFFFFFFF/0').stdout.trim()).toBe('');
    expect(progress()).toBe(now);
    // Past it (the subscriber applied commits the promoted provider never received): set back, the worker running again.
    const end = value('app', `SELECT '${now}'::pg_lsn - 16`);
    // A process holding the origin (as an apply worker blocked on a dead provider does): the attempt fails, naming it;
    // the next attempt ends it and sets the origin back. pre-promote does this.
    // pre-promote disables the subscriptions from this provider first (only_disable), and only those.
    expect(rewindOrigin('0/0', '0', 'false', 'true').code).toBe(0);
    expect(value('app', 'SELECT sub_enabled FROM pglogical.subscription')).toBe('f');
    await new Promise((r) => setTimeout(r, 2000));
    const holder = spawn('runuser', ['-u', 'postgres', '--', `${PG15_BIN}/psql`, '-X', '-q', '-h', root, '-p', pg.port, '-d', 'app', '-c',
      `SELECT pg_replication_origin_session_setup('${slot}'); SELECT pg_sleep(30);`]);
    const holderPid = await until('a session to hold the origin', () =>
      value('app', "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()") || undefined);
    const busy = rewindOrigin(end);
    expect(busy.stdout).toContain('ahead');
    expect(busy.stderr).toContain(`already active for PID ${holderPid}`);
    expect(progress()).toBe(now);
    const out = rewindOrigin(end, holderPid);
    expect(out.stdout).toContain(`rewound ${now}`);
    expect(progress()).toBe(end);
    holder.kill();
    // The subscription stays disabled until the caller enables it again.
    expect(value('app', 'SELECT sub_enabled FROM pglogical.subscription')).toBe('f');
    expect(rewindOrigin(end, '0', 'true').code).toBe(0);
    expect(value('app', 'SELECT sub_enabled FROM pglogical.subscription')).toBe('t');
    await until('the subscription to replicate again', () =>
      value('app', "SELECT status FROM pglogical.show_subscription_status('sub_b_a')") === 'replicating' ? true : undefined);
    // Another provider's name: nothing of this subscription is touched.
    expect(psql('app', ['-v', 'provider=zz', '-v', 'lsn=0/1', '-v', 'pid=0', '-v', 'only_enable=false', '-v', 'only_disable=false',
      '-f', sqlFile('resume-rewind-origin.sql')])
      .stdout.trim()).toBe('');
    expect(value('app', 'SELECT count(*) FROM distributed_postgres.paused_subscriptions')).toBe('0');
  }, 120_000);

  test('a subscription pre-promote paused and never enabled again is enabled by mesh-keeper after the limit; one an operator disabled is not', async () => {
    const enabled = () => value('app', 'SELECT sub_enabled FROM pglogical.subscription');
    const call = (onlyEnable: string, onlyDisable: string) => psql('app', ['-v', 'ON_ERROR_STOP=1', '-v', 'provider=a', '-v', 'lsn=0/0',
      '-v', 'pid=0', '-v', `only_enable=${onlyEnable}`, '-v', `only_disable=${onlyDisable}`, '-f', sqlFile('resume-rewind-origin.sql')]);
    const unpause = () => {
      const out = psql('app', ['-v', 'ON_ERROR_STOP=1', '-F', ' ', '-f', sqlFile('resume-unpause.sql')]);
      expect(out.code).toBe(0);
      return out.stdout.trim();
    };
    // Paused by a provider's pre-promote that never came back to enable it (this group became unreachable).
    expect(call('false', 'true').code).toBe(0);
    expect(enabled()).toBe('f');
    expect(value('app', 'SELECT sub_name FROM distributed_postgres.paused_subscriptions')).toBe('sub_b_a');
    // Within the limit the keeper leaves it: the promotion may still be setting the origin back.
    expect(unpause()).toBe('');
    expect(enabled()).toBe('f');
    value('app', `UPDATE distributed_postgres.paused_subscriptions SET paused_at = now() - interval '${PAUSE_LIMIT_SECONDS + 1} seconds'`);
    expect(unpause()).toBe('sub_b_a t');
    expect(enabled()).toBe('t');
    expect(value('app', 'SELECT count(*) FROM distributed_postgres.paused_subscriptions')).toBe('0');
    await until('the subscription to replicate again', () =>
      value('app', "SELECT status FROM pglogical.show_subscription_status('sub_b_a')") === 'replicating' ? true : undefined);
    // Disabled by an operator (no mark): neither pre-promote's enable nor the keeper touches it.
    value('app', "SELECT pglogical.alter_subscription_disable('sub_b_a', true)");
    expect(call('true', 'false').code).toBe(0);
    value('app', `INSERT INTO distributed_postgres.paused_subscriptions VALUES ('other', now() - interval '1 day')`);
    expect(unpause()).toBe('');
    expect(enabled()).toBe('f');
    value('app', "SELECT pglogical.alter_subscription_enable('sub_b_a', true)");
  }, 120_000);
});
