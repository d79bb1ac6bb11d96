/**
 * A node group added to a running fleet joins with the rows the fleet already holds (pglogical, join.sql): three real
 * PostgreSQL 15 servers with Debian's pglogical 2, one per node group, each running its group's shipped mesh files
 * (every group's address swapped for its server's socket). Groups a and b form a mesh and take writes; then the
 * "deploy" of group c gives a and b their slots for c (as Patroni makes permanent slots); a and b write and update more;
 * c runs join.sql, then its subscriptions, while a and b keep writing. c must end with exactly the rows a and b hold,
 * values included: no gap before the slots, duplicates (rows copied and streamed) resolved to the newest version.
 */
import { chmodSync, writeFileSync } from 'fs';
import { join } from 'path';
import { pglogicalSlotName } from '../../lib/render/mesh';
import { Cloud, DistributedPostgresProps, ImageFlavour } from '../../lib';
import { pglogicalFleet } from '../fixtures/fleets';
import { fileOf, meshFileOf, throwawayPostgres, topologyOf, writeTemp, bootCloudConfig } from './helpers';

function threeGroups(): DistributedPostgresProps {
  const fleet = pglogicalFleet();
  return { ...fleet, nodeGroups: [...fleet.nodeGroups, { name: 'c', cloud: Cloud.AWS, region: 'us-west-2', image: ImageFlavour.DEBIAN_12, members: 3 }] };
}

const SETTINGS = ['shared_preload_libraries=pglogical', 'wal_level=logical', 'track_commit_timestamp=on',
  'max_replication_slots=20', 'max_wal_senders=20', 'max_worker_processes=20', 'pglogical.conflict_resolution=last_update_wins'];

describe('a node group joining a running fleet (PostgreSQL 15 + pglogical 2, join.sql)', () => {
  const servers = { a: throwawayPostgres('join-a', 45100, SETTINGS), b: throwawayPostgres('join-b', 45200, SETTINGS), c: throwawayPostgres('join-c', 45300, SETTINGS) };
  type Group = keyof typeof servers;
  const topology = topologyOf(threeGroups());
  // Before the deploy that adds c, a and b run the documents of the fleet without it.
  const before = topologyOf(pglogicalFleet());
  const leaderDsn = (g: Group) => topology.nodeGroups.find((x) => x.name === g)!.leaderDsn;
  const local = (text: string) => (Object.keys(servers) as Group[]).reduce((t, g) => t.split(leaderDsn(g)).join(servers[g].dsn('app')), text);
  const shipped = (g: Group, file: string, of = topology) => local(meshFileOf(of, `rehearse-${g}-pg1`, file));
  const value = (g: Group, sql: string) => servers[g].value('app', sql);
  const run = (g: Group, text: string) => servers[g].psql('app', ['-v', 'ON_ERROR_STOP=1'], text);
  /** The slot at `provider` that `subscriber`'s subscription streams from (a Patroni permanent slot). */
  const slotFor = (provider: Group, subscriber: Group) => pglogicalSlotName('app', provider, `sub_${subscriber}_${provider}`);
  const permanentSlot = (provider: Group, subscriber: Group) =>
    value(provider, `SELECT 1 FROM pg_create_logical_replication_slot('${slotFor(provider, subscriber)}', 'pglogical_output')`);

  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const got = probe();
      if (got !== undefined) return got;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; c's log:\n${servers.c.logTail(20)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** join.sql as group c's mesh-keeper runs it: as postgres, its copy files where the shipped file names them. */
  function joinAtC(): { code: number; stdout: string; stderr: string } {
    let text = shipped('c', 'join.sql');
    for (const m of text.matchAll(/\/etc\/distributed-postgres\/mesh\/(join-copy-\d+\.sql)/g)) {
      const path = join(servers.c.root, m[1]);
      writeFileSync(path, shipped('c', m[1]), { mode: 0o644 });
      text = text.split(m[0]).join(path);
    }
    text = text.split(`host=/var/run/postgresql port=${topology.postgres.port} dbname=app`).join(servers.c.dsn('app'));
    return servers.c.psql('app', [], text);
  }

  const rows = (g: Group) => value(g, "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM items");

  beforeAll(() => {
    const allowPlugin = fileOf(bootCloudConfig(topology, 'rehearse-a-pg1'), '/etc/distributed-postgres/mesh/allow-output-plugin.sql');
    for (const s of Object.values(servers)) {
      s.start();
      // As post-bootstrap does: allow pglogical's output plugin where the server has output_plugin_libraries.
      const allow = writeTemp(s.root, 'allow-output-plugin.sql', allowPlugin);
      chmodSync(allow, 0o644);
      expect(s.psql('postgres', ['-v', 'ON_ERROR_STOP=1', '-v', 'plugin=pglogical_output', '-f', allow]).code).toBe(0);
      s.value('postgres', 'CREATE DATABASE app');
    }
  }, 90_000);
  afterAll(() => Object.values(servers).forEach((s) => s.stop()));

  test('copies what a and b hold, misses nothing written before the slots, and ends equal under concurrent writes', async () => {
    // The running fleet: a and b with their slots for each other, their mesh, the application's table and rows.
    permanentSlot('a', 'b');
    permanentSlot('b', 'a');
    for (const g of ['a', 'b'] as Group[]) {
      expect(run(g, shipped(g, 'setup.sql', before)).stderr).not.toMatch(/ERROR/);
      value(g, 'CREATE TABLE public.items (id bigint PRIMARY KEY, v text NOT NULL)');
    }
    for (const g of ['a', 'b'] as Group[]) expect(run(g, shipped(g, 'subscriptions.sql', before)).stderr).not.toMatch(/ERROR/);
    for (const g of ['a', 'b'] as Group[]) {
      await until(`${g}'s subscription`, () => (value(g, `SELECT status FROM pglogical.show_subscription_status()`) === 'replicating' ? true : undefined));
    }
    value('a', "INSERT INTO items SELECT g, 'a-before' FROM generate_series(1, 100) g");
    value('b', "INSERT INTO items SELECT g, 'b-before' FROM generate_series(101, 200) g");
    await until('a and b to agree', () => (rows('a') === rows('b') && value('a', 'SELECT count(*) FROM items') === '200' ? true : undefined));

    // c boots before its slots exist and before its table: join.sql waits and says why.
    expect(run('c', shipped('c', 'setup.sql')).stderr).not.toMatch(/ERROR/);
    expect(joinAtC().stdout).toMatch(/^waiting: the tables public\.items hold rows to copy and do not exist here yet/m);
    value('c', 'CREATE TABLE public.items (id bigint PRIMARY KEY, v text NOT NULL)');
    expect(joinAtC().stdout).toMatch(/^waiting: node group a has no slot .* for this group yet/m);

    // The deploy: a and b get their slots for c. a stops applying b's changes for a moment, so b's rows written
    // now are past what a (the copy source) has confirmed of b: c must wait for a to catch up.
    value('a', "SELECT pglogical.alter_subscription_disable('sub_a_b', true)");
    value('b', "INSERT INTO items SELECT g, 'b-before-slot' FROM generate_series(201, 220) g");
    permanentSlot('a', 'c');
    permanentSlot('b', 'c');
    const waiting = joinAtC();
    expect(waiting.stdout).toMatch(/^waiting: node group a has not yet confirmed node group b's changes up to where its slot for this group starts/m);
    value('a', "SELECT pglogical.alter_subscription_enable('sub_a_b', true)");
    await until('a to have b\'s rows', () => (value('a', 'SELECT count(*) FROM items') === '220' ? true : undefined));

    // Changes after the slots and before the copy: streamed to c and also in the copy (an update and an insert each).
    value('a', "UPDATE items SET v = 'a-updated' WHERE id BETWEEN 1 AND 10");
    value('b', "UPDATE items SET v = 'b-updated' WHERE id BETWEEN 101 AND 110");
    value('b', "INSERT INTO items SELECT g, 'b-after-slot' FROM generate_series(221, 240) g");
    await until('a to have b\'s updates', () => (value('a', "SELECT count(*) FROM items WHERE v = 'b-updated'") === '10' ? true : undefined));

    // The join itself (a's subscription to b may lag a moment behind: retried as mesh-keeper does).
    const joined = await until('the join', () => {
      const out = joinAtC();
      if (out.code !== 0) throw new Error(`join.sql failed: ${out.stderr}`);
      return out.stdout.startsWith('copied') ? out.stdout : undefined;
    });
    expect(joined.trim()).toMatch(/^copied 240 rows from node group a$/);
    // Written while c subscribes, and updates of copied rows made at b after the copy.
    value('b', "UPDATE items SET v = 'b-updated-again' WHERE id BETWEEN 201 AND 205");
    value('a', "INSERT INTO items SELECT g, 'a-after' FROM generate_series(241, 260) g");
    expect(run('c', shipped('c', 'subscriptions.sql')).stderr).not.toMatch(/ERROR/);
    await until('c\'s subscriptions', () => (value('c', "SELECT count(*) FROM pglogical.show_subscription_status() WHERE status = 'replicating'") === '2' ? true : undefined));
    // a and b subscribe to c through their new documents (c's slots for them exist since its first boot).
    permanentSlot('c', 'a');
    permanentSlot('c', 'b');
    for (const g of ['a', 'b'] as Group[]) expect(run(g, shipped(g, 'subscriptions.sql')).stderr).not.toMatch(/ERROR/);
    value('a', "UPDATE items SET v = 'a-updated-last' WHERE id IN (150, 250)");
    value('c', "INSERT INTO items VALUES (261, 'c-own')");
    await until('every group to hold the same rows', () =>
      (rows('a') === rows('b') && rows('b') === rows('c') && value('c', 'SELECT count(*) FROM items') === '261' ? true : undefined));
    expect(value('c', "SELECT count(*) FROM items WHERE v IN ('a-updated', 'b-updated', 'b-updated-again', 'a-updated-last')")).toBe('27');

    // Joined once: a second run copies nothing and says nothing; the copy was never sent on to a or b (its origin).
    expect(joinAtC()).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(value('c', 'SELECT count(*) FROM distributed_postgres.joined')).toBe('1');
    expect(value('c', 'SELECT count(*) FROM distributed_postgres.join_rows')).toBe('0');
  }, 240_000);

  test('a group whose slots its providers lost re-syncs by the join path: their inserts, updates and deletes of the cut, its own rows kept', async () => {
    // After the first test: a, b and c form the mesh. c is cut off: nothing flows either way.
    const subs: [Group, string][] = [['c', 'sub_c_a'], ['c', 'sub_c_b'], ['a', 'sub_a_c'], ['b', 'sub_b_c']];
    for (const [g, sub] of subs) value(g, `SELECT pglogical.alter_subscription_disable('${sub}', true)`);
    // During the cut: a and b insert, update and delete; c writes rows of its own (they reach a and b after the heal).
    value('a', "INSERT INTO items SELECT g, 'a-cut' FROM generate_series(301, 320) g");
    value('a', "UPDATE items SET v = 'a-cut-updated' WHERE id BETWEEN 11 AND 20");
    value('b', "DELETE FROM items WHERE id BETWEEN 121 AND 130");
    value('b', "INSERT INTO items SELECT g, 'b-cut' FROM generate_series(321, 340) g");
    value('c', "INSERT INTO items SELECT g, 'c-cut' FROM generate_series(341, 350) g");
    await until('a and b to agree', () => (rows('a') === rows('b') && value('a', 'SELECT count(*) FROM items') === '291' ? true : undefined));
    // a and b write WAL past a small budget: c's slots there (idle) are lost; their slots for each other keep up.
    for (const g of ['a', 'b'] as Group[]) {
      value(g, "ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'");
      value(g, 'SELECT pg_reload_conf()');
      value(g, 'CREATE TABLE IF NOT EXISTS filler (x int)');
    }
    const status = (g: Group, slot: string) => value(g, `SELECT coalesce(wal_status, '-') FROM pg_replication_slots WHERE slot_name = '${slot}'`);
    for (let i = 0; i < 12 && !(status('a', slotFor('a', 'c')) === 'lost' && status('b', slotFor('b', 'c')) === 'lost'); i++) {
      for (const g of ['a', 'b'] as Group[]) value(g, 'INSERT INTO filler SELECT generate_series(1, 1000); SELECT pg_switch_wal()');
      await new Promise((r) => setTimeout(r, 500));
      for (const g of ['a', 'b'] as Group[]) value(g, 'CHECKPOINT');
    }
    expect([status('a', slotFor('a', 'c')), status('b', slotFor('b', 'c'))]).toEqual(['lost', 'lost']);
    expect([status('a', slotFor('a', 'b')), status('b', slotFor('b', 'a'))]).not.toContain('lost');
    for (const g of ['a', 'b'] as Group[]) { value(g, 'ALTER SYSTEM RESET max_slot_wal_keep_size'); value(g, 'SELECT pg_reload_conf()'); }

    // The heal: c's rows flow to a and b; c's own subscriptions can only fail. What mesh-keeper records (resync.sql's
    // check, the provider's wal_status, resync-record.sql), with the settle time already behind it.
    value('a', "SELECT pglogical.alter_subscription_enable('sub_a_c', true)");
    value('b', "SELECT pglogical.alter_subscription_enable('sub_b_c', true)");
    await until('c\'s cut rows at a and b', () => (['a', 'b'].every((g) => value(g as Group, "SELECT count(*) FROM items WHERE v = 'c-cut'") === '10') ? true : undefined));
    for (const p of ['a', 'b'] as Group[]) {
      const recorded = run('c', `\\set provider ${p}\n\\set sub sub_c_${p}\n\\set slot ${slotFor(p, 'c')}\n${shipped('c', 'resync-record.sql')}`);
      expect(recorded).toMatchObject({ code: 0, stderr: '' });
    }
    expect(value('c', "SELECT string_agg(provider, ',' ORDER BY provider) FROM distributed_postgres.resync_needed")).toBe('a,b');
    const prepare = () => servers.c.psql('app', [], shipped('c', 'resync-prepare.sql'));
    // Not before the settle time: nothing is dropped.
    expect(prepare()).toMatchObject({ code: 0, stdout: '' });
    value('c', "UPDATE distributed_postgres.resync_needed SET detected_at = detected_at - interval '1 hour'");
    // Due: it names the providers mesh-keeper must reach first, and drops nothing yet.
    expect(prepare()).toMatchObject({ code: 0, stdout: `due ${servers.a.dsn('app')}\ndue ${servers.b.dsn('app')}\n` });
    expect(value('c', 'SELECT count(*) FROM pglogical.subscription')).toBe('2');
    expect(servers.c.psql('app', ['-v', 'go=1'], shipped('c', 'resync-prepare.sql'))).toMatchObject({ code: 0, stdout: 'prepared\n', stderr: '' });
    expect(value('c', 'SELECT count(*) FROM pglogical.subscription')).toBe('0');
    expect(value('c', 'SELECT count(*) FROM distributed_postgres.joined')).toBe('0');
    expect(prepare()).toMatchObject({ code: 0, stdout: '' });

    // join.sql re-syncs: drops the lost slots (Patroni, played here, recreates a missing permanent slot), waits for
    // the gate, replaces c's rows by a's in one transaction. Writes at a meanwhile are streamed after.
    const phases = new Set<string>();
    const playPatroni = () => {
      for (const [g, p] of [['a', slotFor('a', 'c')], ['b', slotFor('b', 'c')]] as [Group, string][]) {
        if (value(g, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${p}'`) === '0') { phases.add(`${g} slot dropped`); permanentSlot(g, 'c'); }
      }
    };
    expect(joinAtC().stdout).toMatch(/^waiting: node group a has no slot/m);
    playPatroni();
    expect(phases).toEqual(new Set(['a slot dropped', 'b slot dropped']));
    // The gate: while a (the copy source) does not take c's changes, c's rows are not replaced (a row c wrote since
    // would be lost); join.sql fails after 20 s and is run again later.
    value('a', "SELECT pglogical.alter_subscription_disable('sub_a_c', true)");
    value('c', "INSERT INTO items VALUES (353, 'c-during-resync')");
    const held = joinAtC();
    expect(held.code).not.toBe(0);
    expect(held.stderr).toMatch(/re-sync: the sources have not confirmed this group's changes up to .* within 20 s: pgl_app_c_sub_a_c/);
    expect(value('c', "SELECT count(*) || ' ' || count(*) FILTER (WHERE id BETWEEN 121 AND 130) FROM items")).toBe('272 10');
    value('a', "SELECT pglogical.alter_subscription_enable('sub_a_c', true)");
    const copied = await until('the re-sync', () => {
      const out = joinAtC();
      if (out.code !== 0 && !/re-sync: the sources have not confirmed/.test(out.stderr)) throw new Error(`join.sql failed: ${out.stderr}`);
      playPatroni();
      if (out.stdout.startsWith('copied')) expect(out.stderr).toBe('');
      return out.stdout.startsWith('copied') ? out.stdout : undefined;
    });
    expect(copied.trim()).toBe('copied 302 rows from node group a (re-sync)');
    expect(value('c', 'SELECT count(*) FROM distributed_postgres.resync_needed')).toBe('0');
    value('a', "UPDATE items SET v = 'a-after-resync' WHERE id IN (1, 341)");
    value('b', "INSERT INTO items VALUES (351, 'b-after-resync')");
    expect(run('c', shipped('c', 'subscriptions.sql')).stderr).not.toMatch(/ERROR/);
    value('c', "INSERT INTO items VALUES (352, 'c-after-resync')");
    await until('every group to hold the same rows after the re-sync', () =>
      (rows('a') === rows('b') && rows('b') === rows('c') && value('c', 'SELECT count(*) FROM items') === '304' ? true : undefined));
    expect(value('c', "SELECT count(*) FROM items WHERE v IN ('a-cut-updated', 'a-cut', 'b-cut', 'c-cut') OR id BETWEEN 121 AND 130")).toBe('59');
    // The replaced rows were never sent on: a and b have exactly c's own rows once, and the re-sync's DELETE did not reach them.
    expect(value('a', "SELECT count(*) FROM items WHERE v = 'c-cut'")).toBe('9');
    expect(joinAtC()).toMatchObject({ code: 0, stdout: '', stderr: '' });
  }, 300_000);

  test('a group of a first formation (no declared table at its sources yet) has nothing to copy', () => {
    // A fresh database on c's server stands for a group whose sources hold no table: a fleet's first boot.
    value('c', 'CREATE DATABASE fresh');
    servers.c.value('fresh', 'CREATE EXTENSION pglogical');
    const text = shipped('c', 'join.sql').split(servers.a.dsn('app')).join(servers.a.dsn('postgres'))
      .split(`host=/var/run/postgresql port=${topology.postgres.port} dbname=app`).join(servers.c.dsn('fresh'));
    const out = servers.c.psql('fresh', [], text);
    expect(out).toMatchObject({ code: 0, stdout: '' });
    expect(servers.c.value('fresh', 'SELECT source FROM distributed_postgres.joined')).toBe('no declared table at the sources yet: nothing to copy');
  });
});
