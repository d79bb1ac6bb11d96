/**
 * The slots synchronized_standby_slots names (native replication on PostgreSQL 17+), derived on a real PostgreSQL 15
 * from synchronous_standby_names as Patroni writes it. The list must not depend on which standbys are connected: the
 * CI run of 829f3d2 lost 22 acknowledged rows in `provider-window` because the list was taken from
 * pg_stat_replication, emptied when the leader was cut off from its standbys, and the logical sender then sent a
 * commit the standbys never got. Here no standby is connected at all, as in that window.
 */
import { SYNC_STANDBY_SLOT_LIST_SQL } from '../../lib/render/mesh/native';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { fileOf, throwawayPostgres, topologyOf, bootCloudConfig } from './helpers';


test('the shipped standby-slots.sql takes its list from the query tested below', () => {
  const text = bootCloudConfig(topologyOf(rehearsalNativeFleet()), 'rh-native-a-pg1');
  const shipped = fileOf(text, '/etc/distributed-postgres/mesh/standby-slots.sql');
  expect(shipped).toContain(SYNC_STANDBY_SLOT_LIST_SQL);
  expect(shipped).not.toMatch(/pg_stat_replication/);
});

describe('synchronous standbys\' slots on PostgreSQL 15 with no standby connected', () => {
  const pg = throwawayPostgres('standby-slots', 50000);
  const listFor = (standbyNames: string) => {
    pg.value('postgres', `ALTER SYSTEM SET synchronous_standby_names = '${standbyNames.replace(/'/g, "''")}'`);
    pg.value('postgres', 'SELECT pg_reload_conf()');
    // The reload reaches this session's next statement; wait until the backend sees it.
    for (let i = 0; i < 50 && pg.value('postgres', 'SHOW synchronous_standby_names') !== standbyNames; i++) {
      pg.value('postgres', 'SELECT pg_sleep(0.1)');
    }
    return pg.value('postgres', SYNC_STANDBY_SLOT_LIST_SQL);
  };

  beforeAll(() => {
    pg.start();
    // Patroni's physical slots for the members (one is not a synchronous standby, one is a logical-looking name).
    for (const slot of ['rh_native_a_pg2', 'rh_native_a_pg3', 'rh_native_a_pg4']) {
      pg.value('postgres', `SELECT pg_create_physical_replication_slot('${slot}')`);
    }
  }, 60_000);
  afterAll(() => pg.stop());

  test.each([
    ['2 ("rh-native-a-pg2","rh-native-a-pg3")', 'rh_native_a_pg2,rh_native_a_pg3'],
    ['"rh-native-a-pg3"', 'rh_native_a_pg3'],
    ['ANY 1 ("rh-native-a-pg3","rh-native-a-pg2")', 'rh_native_a_pg2,rh_native_a_pg3'],
    ['FIRST 1 (rh_native_a_pg4)', 'rh_native_a_pg4'],
    ['"RH-Native-A-PG2", "rh.native.a.pg4"', 'rh_native_a_pg2,rh_native_a_pg4'],
  ])('synchronous_standby_names %s names the slots %s', (standbyNames, slots) => {
    expect(pg.value('postgres', 'SELECT count(*) FROM pg_stat_replication')).toBe('0');
    expect(listFor(standbyNames)).toBe(slots);
  });

  test.each([
    ['', 'no synchronous standby (asynchronous)'],
    ['*', 'any standby (not what Patroni writes)'],
    ['"rh-native-a-pg9"', 'a member without a slot'],
  ])('synchronous_standby_names %j names no slot: %s', (standbyNames) => {
    expect(listFor(standbyNames)).toBe('');
  });
});
