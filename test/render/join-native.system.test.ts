/**
 * A node group added to a running native fleet joins with the fleet's rows, exactly (native has no conflict
 * resolution, so nothing may arrive twice): three real PostgreSQL 17 servers from the rehearsal's debian-13 image (its
 * root file system as the lower layer of an overlay, entered with chroot), one per node group, each running its group's
 * shipped mesh files with every group's address swapped for its server's socket and the mesh role as shipped (LOGIN
 * REPLICATION, pg_read_all_data). a and b replicate and take writes; the deploy gives them slots for c and their new
 * setup; c runs join.sql while a and b keep writing, then subscribes. c must end with exactly their rows, no apply
 * error (a duplicate would stop its subscription), and a's apply paused only for the moment of the copy's snapshot.
 */
import { execFileSync, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Cloud, ImageFlavour } from '../../lib';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { cachedImage } from '../../tools/rehearsal/src/images';
import { meshFileOf, topologyOf } from './helpers';

const image = cachedImage('debian-13');
if (!image) throw new Error('the native join test needs the debian-13 image: node tools/rehearsal/dist/cli.js image build debian-13 (.ci/run builds it)');

const SCRIPT = String.raw`#!/bin/bash
set -u
B=/usr/lib/postgresql/17/bin
for g in a b c; do
  rm -rf /tmp/pg$g; mkdir -p /tmp/pg$g && chown postgres /tmp/pg$g
  runuser -u postgres -- $B/initdb -D /tmp/pg$g/data -A trust -U postgres >/dev/null
  runuser -u postgres -- $B/pg_ctl -D /tmp/pg$g/data -o "-c listen_addresses='' -c unix_socket_directories=/tmp/pg$g -c port=5432 -c wal_level=logical -c max_replication_slots=20 -c max_wal_senders=20 -c max_worker_processes=20" -l /tmp/pg$g/log -w start >/dev/null
  runuser -u postgres -- $B/psql -X -q -h /tmp/pg$g -d postgres -c "CREATE ROLE mesh LOGIN REPLICATION" -c "CREATE DATABASE app"
done
psql(){ local g=$1; shift; runuser -u postgres -- $B/psql -X -q -h /tmp/pg$g -d app -tA "$@" 2>&1 | grep -v NOTICE; }
slot(){ psql $1 -c "SELECT 1 FROM pg_create_logical_replication_slot('$2', 'pgoutput')" >/dev/null; }
rows(){ psql $1 -c "SELECT count(*) || ' ' || md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM items"; }
# The running fleet: a and b (Patroni's permanent slots for each other), the application's table, rows.
slot a sub_b_a; slot b sub_a_b
for g in a b; do psql $g -c "CREATE TABLE public.items (id bigint PRIMARY KEY, v text NOT NULL)"; psql $g -v ON_ERROR_STOP=1 -f /t/before-$g-setup.sql >/dev/null; done
for g in a b; do psql $g -f /t/before-$g-subscriptions.sql; done
psql a -c "INSERT INTO items SELECT g, 'a-before' FROM generate_series(1,100) g"
psql b -c "INSERT INTO items SELECT g, 'b-before' FROM generate_series(101,200) g"
for i in $(seq 1 50); do [ "$(rows a)" = "$(rows b)" ] && [ "$(psql a -c 'SELECT count(*) FROM items')" = 200 ] && break; sleep 0.2; done
echo "before: $(rows a) | $(rows b)"
# The deploy: slots for c, the new documents' setup; changes after the slots (in the copy and in b's slot).
slot a sub_c_a; slot b sub_c_b
for g in a b; do psql $g -v ON_ERROR_STOP=1 -f /t/after-$g-setup.sql >/dev/null || echo "setup of $g failed"; done
psql a -c "UPDATE items SET v = 'a-upd' WHERE id <= 10"
psql b -c "UPDATE items SET v = 'b-upd' WHERE id BETWEEN 101 AND 110"
psql b -c "INSERT INTO items SELECT g, 'b-after-slot' FROM generate_series(201,220) g"
sleep 1
# c boots: its setup, the application's table, then the join while a and b write.
psql c -c "CREATE TABLE public.items (id bigint PRIMARY KEY, v text NOT NULL)"
psql c -v ON_ERROR_STOP=1 -f /t/after-c-setup.sql >/dev/null
( for i in $(seq 221 260); do psql a -c "INSERT INTO items VALUES ($i, 'a-during')"; psql b -c "INSERT INTO items VALUES ($((i+100)), 'b-during')"; sleep 0.05; done ) &
W=$!
echo "join: $(runuser -u postgres -- $B/psql -X -q "host=/tmp/pgc port=5432 dbname=app" -tA -f /t/join.sql 2>&1)"
echo "pauses left at a: $(psql a -c 'SELECT count(*) FROM distributed_postgres.join_pauses'), a's subscriptions enabled: $(psql a -c 'SELECT bool_and(subenabled) FROM pg_subscription')"
psql c -f /t/after-c-subscriptions.sql
slot c sub_a_c; slot c sub_b_c
for g in a b; do psql $g -f /t/after-$g-subscriptions.sql; done
wait $W
psql a -c "UPDATE items SET v = 'a-last' WHERE id IN (5, 250)"
psql c -c "INSERT INTO items VALUES (1000, 'c-own')"
for i in $(seq 1 100); do [ "$(rows a)" = "$(rows c)" ] && [ "$(rows b)" = "$(rows c)" ] && [ "$(psql c -c 'SELECT count(*) FROM items')" = 301 ] && break; sleep 0.2; done
echo "after: $(rows a) | $(rows b) | $(rows c)"
echo "join again: [$(runuser -u postgres -- $B/psql -X -q "host=/tmp/pgc port=5432 dbname=app" -tA -f /t/join.sql 2>&1)]"
echo "errors at c: $(grep -c ERROR /tmp/pgc/log)"
grep ERROR /tmp/pgc/log | head -3
for g in a b c; do runuser -u postgres -- $B/pg_ctl -D /tmp/pg$g/data -m immediate stop >/dev/null; done
`;

describe('a node group joining a running native fleet (PostgreSQL 17 of the debian-13 image, join.sql)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dpg-join-native-'));
  const merged = join(dir, 'merged');
  let mounted: string[] = [];

  beforeAll(() => {
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d));
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${image.rootfs},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, merged]);
    mounted = [merged];
    for (const fs of ['proc', 'dev']) {
      execFileSync('mount', ['--bind', `/${fs}`, join(merged, fs)]);
      mounted.unshift(join(merged, fs));
    }
  });
  afterAll(() => {
    for (const m of mounted) spawnSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('copies exactly what a holds, b\'s slot meets the copy, and every group ends equal under concurrent writes', () => {
    const fleet = rehearsalNativeFleet();
    const before = topologyOf(fleet);
    const after = topologyOf({ ...fleet, nodeGroups: [...fleet.nodeGroups, { name: 'c', cloud: Cloud.AWS, region: 'us-west-2', image: ImageFlavour.DEBIAN_13, members: 3 }] });
    const machine = (g: string) => `${after.fleetName}-${g}-pg1`;
    const local = (text: string) => ['a', 'b', 'c'].reduce((t, g) => t.split(after.nodeGroups.find((n) => n.name === g)!.leaderDsn).join(`host=/tmp/pg${g} port=5432 dbname=app user=mesh`), text)
      .split(`host=/var/run/postgresql port=${after.postgres.port} dbname=app`).join('host=/tmp/pgc port=5432 dbname=app')
      .split('/etc/distributed-postgres/mesh/').join('/t/');
    const files = join(merged, 't');
    mkdirSync(files);
    for (const g of ['a', 'b']) for (const f of ['setup.sql', 'subscriptions.sql']) writeFileSync(join(files, `before-${g}-${f}`), local(meshFileOf(before, machine(g), f)));
    for (const g of ['a', 'b', 'c']) for (const f of ['setup.sql', 'subscriptions.sql']) writeFileSync(join(files, `after-${g}-${f}`), local(meshFileOf(after, machine(g), f)));
    for (const f of ['join.sql', 'join-copy-1.sql']) writeFileSync(join(files, f), local(meshFileOf(after, machine('c'), f)));
    writeFileSync(join(files, 'run.sh'), SCRIPT, { mode: 0o755 });
    const run = spawnSync('chroot', [merged, '/t/run.sh'], { encoding: 'utf8', timeout: 240_000 });
    const out = run.stdout + run.stderr;
    const line = (key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(out)?.[1] ?? `(no '${key}' line in:\n${out})`;
    expect(line('before')).toMatch(/^200 (\w+) \| 200 \1$/);
    expect(line('join')).toMatch(/^copied \d+ rows from node group a$/);
    expect(line('pauses left at a')).toBe('0, a\'s subscriptions enabled: t');
    expect(line('after')).toMatch(/^301 (\w+) \| 301 \1 \| 301 \1$/);
    expect(line('join again')).toBe('[]');
    expect(line('errors at c')).toBe('0');
  }, 300_000);
});
