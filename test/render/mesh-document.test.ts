/**
 * The mesh document (a group's mesh SQL outside the user-data). `mesh-sync`, which members run to take it, is run for
 * real in mesh-document.system.test.ts.
 */
import { Cloud, DistributedPostgresProps, ReplicationEngine } from '../../lib';
import { renderCloudConfig } from '../../lib/render';
import { meshDocument, meshDocumentFiles } from '../../lib/render/mesh-document';
import { RETAINED_WAL_REPORT_BYTES } from '../../lib/render/mesh';
import { RESYNC_TABLE } from '../../lib/render/mesh/resync';
import { meshKeeperScript } from '../../lib/render/mesh-keeper';
import { FILES } from '../../lib/render/paths';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { fileOf, machineFile, meshDocumentFilesOf, parseCloudConfig, topologyOf } from './helpers';


/** `count` AWS node groups over four regions, pglogical: a big mesh. */
function manyGroups(count: number): DistributedPostgresProps {
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];
  return {
    name: 'big',
    nodeGroups: Array.from({ length: count }, (_, i) => ({ name: `g${i + 1}`, cloud: Cloud.AWS, region: regions[i % regions.length] })),
    replication: { engine: ReplicationEngine.PGLOGICAL, globalTables: ['public.items', 'app.accounts'], maxNodeGroups: 100 },
  };
}

describe('the mesh document', () => {
  const topology = topologyOf(ledgerFleet());
  const group = topology.nodeGroups[0];

  test('holds the group\'s mesh SQL, which the user-data no longer carries; the user-data names the document', () => {
    const member = group.members[0].name;
    const text = renderCloudConfig(topology, member);
    const paths = parseCloudConfig(text).write_files.map((f) => f.path);
    for (const name of ['setup.sql', 'subscriptions.sql', 'verify.sql']) {
      expect(paths).not.toContain(`${FILES.meshDir}/${name}`);
      expect(meshDocumentFilesOf(meshDocument(topology, group).value)[name]).toBe(meshDocumentFiles(topology, group)[name]);
    }
    expect(machineFile(topology, member, FILES.meshSync)).toContain(`NAME, DIR, BACKEND = ${JSON.stringify(group.meshDocument)}, `);
    expect(group.meshDocument).toBe(`${topology.fleetName}-mesh-${group.name}`);
  });

  test('native on PostgreSQL 17: it names the subscribers\' slots whose failover flag mesh-keeper keeps set', () => {
    const native = topologyOf(rehearsalNativeFleet());
    const a = native.nodeGroups.find((g) => g.name === 'a')!;
    const sql = meshDocumentFilesOf(meshDocument(native, a).value)['failover-slots.sql'];
    expect(sql).toContain("NOT s.failover AND s.slot_name = ANY (ARRAY['sub_b_a']::text[])");
    expect(meshDocumentFiles(topologyOf(pglogicalFleet()), topologyOf(pglogicalFleet()).nodeGroups[0])['failover-slots.sql']).toBeUndefined();
    // The replication-protocol command runs over the local socket as the superuser.
    expect(fileOf(renderCloudConfig(native, a.members[0].name), FILES.patroniTemplate)).toContain('local replication postgres peer');
  });

  test('is deterministic, and its generation changes when the group\'s mesh does', () => {
    expect(meshDocument(topologyOf(ledgerFleet()), group).value).toBe(meshDocument(topology, group).value);
    const props = ledgerFleet();
    const more = topologyOf({ ...props, replication: { ...props.replication, globalTables: [...(props.replication?.globalTables ?? []), 'app.more'] } });
    expect(meshDocument(more, more.nodeGroups[0]).generation).not.toBe(meshDocument(topology, group).generation);
  });

  test('stays within the secret stores\' 64 KiB at 100 node groups, and a member\'s user-data is the same with 2 node groups or 100', () => {
    const big = topologyOf(manyGroups(100));
    const two = topologyOf(manyGroups(2));
    const largest = Math.max(...big.nodeGroups.map((g) => Buffer.byteLength(meshDocument(big, g).value)));
    expect(largest).toBeLessThan(64 * 1024);
    const files = (t: typeof big) => Object.fromEntries(parseCloudConfig(renderCloudConfig(t, t.nodeGroups[1].members[0].name)).write_files
      .map((f) => [f.path, f.content]));
    const grown = Object.entries(files(big)).filter(([path, length]) => length !== files(two)[path]).map(([path]) => path);
    // Patroni's pg_hba and permanent slots are in the document too, and the capacity is sized for maxNodeGroups:
    // the member's user-data is the same byte for byte whether the fleet has 2 node groups or 100.
    expect(grown).toEqual([]);
  });
  test('problems.sql reports inactive subscriber slots that keep much WAL, where the slots are Patroni\'s (not Spock\'s)', () => {
    const pglogical = topologyOf(pglogicalFleet());
    const problems = meshDocumentFiles(pglogical, pglogical.nodeGroups[0])['problems.sql'];
    expect(problems).toContain("(VALUES ('pgl_app_a_sub_b_a', 'b'))");
    expect(problems).toContain(`> ${RETAINED_WAL_REPORT_BYTES})`);
    const native = topologyOf(rehearsalNativeFleet());
    expect(meshDocumentFiles(native, native.nodeGroups[1])['problems.sql']).toContain("(VALUES ('sub_a_b', 'a'))");
    const spock = meshDocumentFiles(topology, group)['problems.sql'];
    expect(spock).toContain('delta-apply');
    expect(spock).not.toContain('pg_replication_slots');
    const alone = topologyOf({ ...pglogicalFleet(), nodeGroups: pglogicalFleet().nodeGroups.slice(0, 1) });
    expect(meshDocumentFiles(alone, alone.nodeGroups[0])['problems.sql']).toBeUndefined();
  });
  test('resync.sql and resync-record.sql: the slots to ask each provider about, and how a lost one is recorded and its subscription disabled', () => {
    const pglogical = topologyOf(pglogicalFleet());
    const b = meshDocumentFiles(pglogical, pglogical.nodeGroups[1]);
    expect(b['resync.sql']).toContain("JOIN (VALUES ('sub_b_a', 'a')) AS w(sub_name, grp)");
    expect(b['resync.sql']).toContain(`SELECT 'recorded', provider, subscription, slot FROM ${RESYNC_TABLE}`);
    expect(b['resync-record.sql']).toContain(`INSERT INTO ${RESYNC_TABLE} (provider, subscription, slot, applied_up_to)`);
    expect(b['resync-record.sql']).toContain("SELECT pglogical.alter_subscription_disable(sub_name, true) FROM pglogical.subscription WHERE sub_name = :'sub' AND sub_enabled;");
    const native = topologyOf(rehearsalNativeFleet());
    const nb = meshDocumentFiles(native, native.nodeGroups[1]);
    expect(nb['resync.sql']).toContain("'pg_' || s.oid AS origin");
    // Only subscriptions whose apply worker is not running are asked about.
    expect(nb['resync.sql']).toContain('NOT c.streaming');
    expect(b['resync.sql']).toContain("st.status = 'replicating') AS streaming");
    expect(nb['resync-record.sql']).toContain("SELECT format('ALTER SUBSCRIPTION %I DISABLE', subname) FROM pg_subscription");
    // A group that subscribes to no one has nothing to ask.
    const alone = topologyOf({ ...pglogicalFleet(), nodeGroups: pglogicalFleet().nodeGroups.slice(0, 1) });
    expect(meshDocumentFiles(alone, alone.nodeGroups[0])['resync.sql']).toBeUndefined();
    // mesh-keeper asks on the leader at every check and lists what it recorded in the status file.
    const keeper = meshKeeperScript();
    expect(keeper).toContain('      check_lost_slots\n');
    expect(keeper).toContain("[ -n \"$resync_needed\" ] && printf '%s\\n' \"$resync_needed\" | sed 's/^/resync-needed=/'");
    expect(keeper).toContain("SELECT wal_status FROM pg_replication_slots WHERE slot_name = :'slot'");
  });
});

