/**
 * A provider's lost slot, for real (system test): a throwaway PostgreSQL 15 with Debian's pglogical plays both node
 * groups (database `prov` is node group a, database `app` node group b, subscribed to it as the mesh subscribes), with
 * max_slot_wal_keep_size at 1 MB so that a few WAL segments invalidate the subscription's slot. Then the mesh document's
 * `resync.sql` and `resync-record.sql` (what mesh-keeper runs on b's leader) and the query mesh-keeper sends to the
 * provider: the slot is found `lost`, recorded once, the subscription disabled, and not asked about again. The whole
 * loop (a cut-off group, detection after the heal, mesh.status) is the rehearsal's long-partition drill.
 */
import { pglogicalFleet } from '../fixtures/fleets';
import { RESYNC_TABLE } from '../../lib/render/mesh/resync';
import { meshFileOf, throwawayPostgres, topologyOf } from './helpers';

describe('a lost provider slot on PostgreSQL 15 + pglogical 2 (throwaway cluster)', () => {
  const pg = throwawayPostgres('resync', 55000,
    ['shared_preload_libraries=pglogical', 'wal_level=logical', 'track_commit_timestamp=on', 'max_slot_wal_keep_size=1MB']);
  const topology = topologyOf(pglogicalFleet());
  const member = topology.nodeGroups[1].members[0].name;
  const check = meshFileOf(topology, member, 'resync.sql');
  const record = meshFileOf(topology, member, 'resync-record.sql');
  const slot = 'pgl_app_a_sub_b_a';
  // What mesh-keeper asks the provider's leader (check_lost_slots in mesh-keeper.ts).
  const walStatus = () => pg.psql('prov', ['-v', `slot=${slot}`], "SELECT wal_status FROM pg_replication_slots WHERE slot_name = :'slot'").stdout.trim();

  beforeAll(() => {
    pg.start();
    // Debian's 15.19+ loads only the output plugins output_plugin_libraries allows: the rendered step that adds pglogical's.
    expect(pg.psql('postgres', ['-v', 'ON_ERROR_STOP=1', '-v', 'plugin=pglogical_output', '-f', '-'],
      meshFileOf(topology, member, 'allow-output-plugin.sql')).code).toBe(0);
    for (const db of ['prov', 'app']) pg.value('postgres', `CREATE DATABASE ${db}`);
    pg.value('prov', 'CREATE EXTENSION pglogical');
    pg.value('prov', `SELECT pglogical.create_node(node_name := 'a', dsn := '${pg.dsn('prov')}')`);
    pg.value('app', 'CREATE EXTENSION pglogical');
    pg.value('app', `SELECT pglogical.create_node(node_name := 'b', dsn := '${pg.dsn('app')}')`);
    pg.value('app', `SELECT pglogical.create_subscription(subscription_name := 'sub_b_a', provider_dsn := '${pg.dsn('prov')}', ` +
      'synchronize_structure := false, synchronize_data := false)');
  }, 60_000);
  afterAll(() => pg.stop());

  test('a streaming subscription\'s provider is not asked, a stopped one\'s is; once its slot is lost it is recorded once, the subscription disabled, and not asked about again', async () => {
    for (let i = 0; i < 100 && walStatus() === ''; i++) await new Promise((r) => setTimeout(r, 200));
    expect(walStatus()).toBe('reserved');
    const ask = () => pg.psql('app', ['-v', 'ON_ERROR_STOP=1', '-F', '\t', '-f', '-'], check);
    // While the subscription streams, b asks nobody.
    expect(pg.value('app', "SELECT status FROM pglogical.show_subscription_status() WHERE subscription_name = 'sub_b_a'")).toBe('replicating');
    expect(ask()).toEqual(expect.objectContaining({ code: 0, stderr: '', stdout: '' }));

    // b is away (its apply worker stopped) while a writes well past the budget: the checkpoint invalidates the slot.
    pg.value('app', "SELECT pglogical.alter_subscription_disable('sub_b_a', true)");
    // Not streaming: b asks a about the slot its subscription streams from (the provider's DSN from pglogical's catalog).
    expect(ask().stdout.trim()).toBe(`check\ta\tsub_b_a\t${slot}\t${pg.dsn('prov')}`);
    pg.value('prov', 'CREATE TABLE filler (x int)');
    for (let i = 0; i < 4; i++) pg.value('prov', 'INSERT INTO filler SELECT generate_series(1, 20000); SELECT pg_switch_wal()');
    pg.value('prov', 'CHECKPOINT');
    expect(walStatus()).toBe('lost');
    // b comes back: its subscription is enabled again (and can only fail).
    pg.value('app', "SELECT pglogical.alter_subscription_enable('sub_b_a', true)");

    const recorded = pg.psql('app', ['-v', 'ON_ERROR_STOP=1', '-v', 'provider=a', '-v', 'sub=sub_b_a', '-v', `slot=${slot}`, '-f', '-'], record);
    expect(recorded).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(recorded.stdout).toMatch(/^recorded (\d+|[0-9A-F]+\/[0-9A-F]+|nothing)$/m);
    expect(pg.value('app', "SELECT sub_enabled FROM pglogical.subscription WHERE sub_name = 'sub_b_a'")).toBe('f');
    expect(pg.value('app', `SELECT provider || ' ' || subscription || ' ' || slot FROM ${RESYNC_TABLE}`)).toBe(`a sub_b_a ${slot}`);
    // Recording again changes nothing and prints nothing to log.
    const again = pg.psql('app', ['-v', 'ON_ERROR_STOP=1', '-v', 'provider=a', '-v', 'sub=sub_b_a', '-v', `slot=${slot}`, '-f', '-'], record);
    expect(again).toEqual(expect.objectContaining({ code: 0, stdout: '' }));
    expect(pg.value('app', `SELECT count(*) FROM ${RESYNC_TABLE}`)).toBe('1');
    // Known now: listed as recorded (mesh-keeper's resync-needed=a), no longer asked about.
    expect(ask().stdout.trim()).toBe(`recorded\ta\tsub_b_a\t${slot}`);
  }, 60_000);
});
