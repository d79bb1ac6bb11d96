/**
 * The anti-entropy check, run for real (system tests): the shipped script with Debian's python3 and psql against two
 * throwaway PostgreSQL 15 servers standing for two node groups' leaders, with the pairs as the mesh document lists
 * them. Clean when both hold the same rows; dirty, naming the keys, when a row is deleted or changed behind
 * replication's back; a row still in flight (it arrives between the reads) is not reported; what it cannot compare
 * is a note and makes the state incomplete.
 */
import { spawn } from 'child_process';
import { antiEntropyPairsSql, antiEntropyScript, ANTI_ENTROPY_BUCKETS, ANTI_ENTROPY_CHECKS, ANTI_ENTROPY_PAUSE_SECONDS } from '../../lib/render/anti-entropy';
import { Cloud, ReplicationEngine } from '../../lib';
import { PG15_BIN, run, tempDir, throwawayPostgres, topologyOf, writeTemp } from './helpers';

const here = throwawayPostgres('ae-a', 25500);
const peer = throwawayPostgres('ae-b', 25600);
const dir = tempDir('anti-entropy');

/** The shipped script, pausing `pause` s between its reads instead of the shipped 10 s. */
function script(pause: number): string {
  const text = antiEntropyScript();
  const constants = `BUCKETS, CHECKS, PAUSE, SHOWN = ${ANTI_ENTROPY_BUCKETS}, ${ANTI_ENTROPY_CHECKS}, ${ANTI_ENTROPY_PAUSE_SECONDS}, 20`;
  expect(text).toContain(constants);
  return writeTemp(dir, `anti-entropy-${pause}`, text.replace(constants, `BUCKETS, CHECKS, PAUSE, SHOWN = ${ANTI_ENTROPY_BUCKETS}, ${ANTI_ENTROPY_CHECKS}, ${pause}, 20`), 0o755);
}

/** A pairs file like the mesh document's, comparing `tables` with the peer server. */
function pairs(tables: string[], dsn = peer.dsn('app'), ignored = ''): string {
  const rows = tables.map((t) => `('${t}', 'b', '${dsn}', '${ignored}')`).join(', ');
  return writeTemp(dir, `pairs-${tables.length}-${dsn.length}-${ignored}.sql`,
    `SELECT tbl, peer, dsn, ignored FROM (VALUES ${rows}) AS p(tbl, peer, dsn, ignored) ORDER BY 1, 2;\n`);
}

function check(pause: number, tables: string[], peerDsn?: string, ignored?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('runuser', ['-u', 'postgres', '--', script(pause), `${PG15_BIN}/psql`, here.dsn('app'), pairs(tables, peerDsn, ignored)]);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('close', (code) => resolve({ code, out }));
  });
}

const SCHEMA = "CREATE TABLE items (id bigint PRIMARY KEY, note text, amount numeric, at timestamptz DEFAULT '2026-11-27 12:00:00+00'); " +
  'CREATE TABLE logs (line text);';

beforeAll(() => {
  run('chmod', ['0755', dir]);
  for (const server of [here, peer]) {
    server.start();
    server.value('postgres', 'CREATE DATABASE app');
    server.value('app', SCHEMA);
    server.value('app', "INSERT INTO items SELECT i, 'row ' || i, i * 1.5 FROM generate_series(1, 5000) i");
  }
  // Servers in different time zones show the same instant differently: the check compares in UTC.
  peer.value('postgres', "ALTER DATABASE app SET timezone TO 'Asia/Tokyo'");
});

afterAll(() => {
  here.stop();
  peer.stop();
});

test('clean when both groups hold the same rows (whatever each server\'s time zone)', async () => {
  expect(peer.value('app', 'SELECT at FROM items WHERE id = 1')).not.toBe(here.value('app', 'SELECT at FROM items WHERE id = 1'));
  const r = await check(1, ['public.items']);
  expect(r).toEqual({ code: 0, out: 'compared=1\nstate=clean\n' });
});

test('dirty, naming the keys and how they differ, when rows changed behind replication\'s back', async () => {
  peer.value('app', 'DELETE FROM items WHERE id = 17');
  here.value('app', "UPDATE items SET note = 'changed here only' WHERE id = 4242");
  peer.value('app', "INSERT INTO items VALUES (9001, 'only at the peer', 1)");
  const r = await check(1, ['public.items']);
  expect(r.code).toBe(0);
  expect(r.out).toBe('finding=public.items b: 3 key(s) differ: (17) missing at the peer, (4242) differs, (9001) missing here\ncompared=1\nstate=dirty\n');
  // Repaired: clean again.
  peer.value('app', "INSERT INTO items VALUES (17, 'row 17', 25.5); DELETE FROM items WHERE id = 9001");
  peer.value('app', "UPDATE items SET note = 'changed here only' WHERE id = 4242");
  expect((await check(1, ['public.items'])).out).toBe('compared=1\nstate=clean\n');
});

test('columns each group fills itself are left out when listed; thousands of differing keys are rechecked whole', async () => {
  // Every row's arrival column differs (set at each group), as a trigger enabled ALWAYS would make it.
  peer.value('app', "UPDATE items SET at = at + interval '1 second'");
  const dirty = await check(1, ['public.items']);
  expect(dirty.out).toMatch(/^finding=public\.items b: 5000 key\(s\) differ: \(1\) differs, \(10\) differs, .* \.\.\.\ncompared=1\nstate=dirty\n$/);
  expect((await check(1, ['public.items'], peer.dsn('app'), 'at')).out).toBe('compared=1\nstate=clean\n');
  peer.value('app', "UPDATE items SET at = at - interval '1 second'");
});

test('a row still in flight is not reported: it arrives between the reads', async () => {
  here.value('app', "INSERT INTO items VALUES (7000, 'in flight', 2)");
  const pending = check(3, ['public.items']);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  peer.value('app', "INSERT INTO items VALUES (7000, 'in flight', 2)");
  expect((await pending).out).toBe('compared=1\nstate=clean\n');
});

test('what it cannot compare is a note, and the state is incomplete', async () => {
  const r = await check(1, ['public.items', 'public.logs', 'public.not_yet']);
  expect(r.out).toBe('note=public.logs b: no primary key, not compared\nnote=public.not_yet b: not created here yet\ncompared=1\nstate=incomplete\n');
  // A peer that does not answer (no server on that socket).
  const down = await check(1, ['public.items'], `host=${dir} port=1 dbname=app user=postgres`);
  expect(down.out).toMatch(/^note=public\.items b: not compared: .*\ncompared=0\nstate=incomplete\n$/);
});

test('the mesh document pairs each global table with every other group and a geoshard partition with its geoshard only', () => {
  const topology = topologyOf({
    name: 'ae',
    nodeGroups: [{ name: 'a', cloud: Cloud.AWS, region: 'eu-west-1' }, { name: 'b', cloud: Cloud.AWS, region: 'eu-central-1' },
      { name: 'c', cloud: Cloud.AWS, region: 'us-east-1' }],
    replication: { engine: ReplicationEngine.PGLOGICAL, globalTables: ['public.items'] },
    geoshards: [{ name: 'eu', nodeGroups: ['a', 'b'], tables: [{ table: 'public.orders', partition: 'public.orders_eu', values: ['eu'] }] }],
  });
  const [a, , c] = topology.nodeGroups;
  const listed = (sql: string) => here.value('postgres', sql.replace(/;\s*$/, '')).split('\n').map((l) => l.split('|').slice(0, 2).join(' '));
  expect(listed(antiEntropyPairsSql(topology, a))).toEqual(['public.items b', 'public.items c', 'public.orders_eu b']);
  expect(listed(antiEntropyPairsSql(topology, c))).toEqual(['public.items a', 'public.items b']);
});
