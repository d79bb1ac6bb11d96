/**
 * A node group that subscribes late (it booted minutes after its provider, or its leader's mesh-keeper got there
 * late) must still receive every row the provider took before: on a real PostgreSQL 15 with Debian's pglogical 2, the
 * provider database gets its subscriber's slot as Patroni makes it (a permanent slot, created once the database
 * exists and before mesh-keeper creates the pglogical node), then group a's shipped setup.sql and rows, and only then
 * does the subscriber database run group b's shipped setup.sql and subscriptions.sql (from its mesh document, the
 * provider's address swapped for the local socket).
 * pglogical's own initial sync would drop that slot and start from the moment of subscribing, losing those rows.
 */
import { chmodSync } from 'fs';
import { pglogicalSlotName } from '../../lib/render/mesh';
import { pglogicalFleet } from '../fixtures/fleets';
import { fileOf, meshFileOf, throwawayPostgres, topologyOf, writeTemp, bootCloudConfig } from './helpers';


describe('a late subscriber on PostgreSQL 15 + pglogical 2', () => {
  const pg = throwawayPostgres('late-sub', 45000, ['shared_preload_libraries=pglogical', 'wal_level=logical',
    'track_commit_timestamp=on', 'max_replication_slots=10', 'max_wal_senders=10']);
  const { psql, value, dsn } = pg;
  const topology = topologyOf(pglogicalFleet());
  const slot = pglogicalSlotName('app', 'a', 'sub_b_a');

  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const got = probe();
      if (got !== undefined) return got;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; server log:\n${pg.logTail(30)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(() => pg.start(), 60_000);
  afterAll(() => pg.stop());

  test('rows the provider took before the subscription exist reach the subscriber, and later rows follow', async () => {
    // As post-bootstrap does: allow pglogical's output plugin where the server has output_plugin_libraries.
    const allow = writeTemp(pg.root, 'allow-output-plugin.sql', fileOf(bootCloudConfig(topology, 'rehearse-a-pg1'),
      '/etc/distributed-postgres/mesh/allow-output-plugin.sql'));
    chmodSync(allow, 0o644);
    expect(psql('postgres', ['-v', 'ON_ERROR_STOP=1', '-v', 'plugin=pglogical_output', '-f', allow]).code).toBe(0);
    value('postgres', 'CREATE DATABASE prov');
    value('postgres', 'CREATE DATABASE app');
    // Patroni: the permanent slot for b's subscription, as soon as the database exists.
    value('prov', `SELECT 1 FROM pg_create_logical_replication_slot('${slot}', 'pglogical_output')`);
    // mesh-keeper at each group's leader: the shipped setup (node, set, the trigger that adds declared tables); then
    // the application's table in both and rows at the provider, all before b subscribes.
    for (const [db, machine] of [['prov', 'rehearse-a-pg1'], ['app', 'rehearse-b-pg1']]) {
      // The node's own address (pglogical connects to it when a subscription is made) is the local socket here.
      const shipped = meshFileOf(topology, machine, 'setup.sql');
      const setup = psql(db, [], shipped.replace(/dsn := '[^']*'/, `dsn := '${dsn(db)}'`));
      expect(setup.stderr).not.toMatch(/ERROR/);
      value(db, 'CREATE TABLE public.items (id bigint PRIMARY KEY, v text)');
    }
    value('prov', "INSERT INTO items SELECT g, 'before' FROM generate_series(1, 25) g");

    // Group b's shipped subscriptions, its provider's address replaced by the local one (the rest as shipped).
    const shipped = meshFileOf(topology, 'rehearse-b-pg1', 'subscriptions.sql');
    const providerDsn = /provider_dsn := '([^']*)'/.exec(shipped)![1];
    const local = shipped.split(providerDsn).join(dsn('prov'));
    const applied = psql('app', [], local);
    expect(applied.stderr).not.toMatch(/ERROR/);
    await until('the subscription to replicate', () =>
      value('app', "SELECT status FROM pglogical.show_subscription_status('sub_b_a')") === 'replicating' ? true : undefined);
    // The slot the subscription streams from is still the one made before the rows (not dropped and made anew).
    expect(value('app', "SELECT sync_status FROM pglogical.local_sync_status WHERE sync_relname IS NULL")).toBe('r');
    await until('the 25 rows written before the subscription', () =>
      (value('app', "SELECT count(*) FROM items WHERE v = 'before'") === '25' ? true : undefined));
    value('prov', "INSERT INTO items SELECT g, 'after' FROM generate_series(26, 40) g");
    await until('the rows written after', () => (value('app', 'SELECT count(*) FROM items') === '40' ? true : undefined));

    // Applied again (mesh-keeper re-applies it every few minutes): nothing changes, nothing is sent twice.
    expect(psql('app', [], local).stderr).not.toMatch(/ERROR/);
    value('prov', "INSERT INTO items VALUES (41, 'again')");
    await until('row 41', () => (value('app', 'SELECT count(*) FROM items') === '41' ? true : undefined));
    expect(value('app', 'SELECT count(*) FROM pglogical.subscription')).toBe('1');
  }, 120_000);
});
