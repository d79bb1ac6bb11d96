/** The Patroni and etcd configs read back out of write_files (with a YAML parser) carry the declaration's values. */
import {
  Cloud, DistributedPostgresProps, EtcdPlacement, LatencyClass, PackageSource, ReplicationEngine, SynchronousMode, TimingProfile,
} from '../../lib';
import { pglogicalSlotName } from '../../lib/render/mesh';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { fileOf, patroniWithMeshOf, renderAll, topologyOf, yamlFileOf } from './helpers';
import { renderCloudConfig } from '../../lib/render';
import { yamlText } from '../../lib/render/cloud-config';
import { parse } from 'yaml';
import { rehearsalSpockFleet } from '../../stacks/rehearsal-spock';

const PATRONI = '/etc/distributed-postgres/patroni.yml.template';
const ETCD = '/etc/distributed-postgres/etcd.yaml';

/** Five members, strict sync with two sync standbys, dedicated etcd across continents, user parameters. */
function strictFleet(): DistributedPostgresProps {
  return {
    name: 'strict',
    nodeGroups: [
      { name: 'tokyo', cloud: Cloud.AWS, region: 'ap-northeast-1', members: 5, zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'] },
      { name: 'paris', cloud: Cloud.GCP, region: 'europe-west9', members: 5 },
    ],
    etcd: { placement: EtcdPlacement.DEDICATED, size: 5, latency: LatencyClass.INTERCONTINENTAL },
    ha: { synchronousMode: SynchronousMode.STRICT, synchronousStandbys: 2, ttl: 45, loopWait: 5, retryTimeout: 12, maximumLagOnFailoverBytes: 4096, failsafeMode: false },
    postgres: { parameters: { work_mem: '64MB', max_connections: '300' } },
    replication: { engine: ReplicationEngine.NATIVE, globalTables: ['public.items'] },
    network: { clientCidrs: ['10.200.0.0/16', '172.20.0.0/16'] },
  };
}

describe.each([
  ['ledger (Spock, co-located etcd)', ledgerFleet()],
  ['pglogical on Debian 12', pglogicalFleet()],
  ['strict native, dedicated etcd', strictFleet()],
])('%s', (_label, props) => {
  const topology = topologyOf(props);
  const machines = renderAll(topology);

  test('Patroni: scope, DCS, timing, synchronous mode and etcd hosts come from the declaration', () => {
    for (const group of topology.nodeGroups) {
      for (const member of group.members) {
        const text = machines.find((m) => m.name === member.name)!.text;
        const p = yamlFileOf(text, PATRONI);
        expect(p.scope).toBe(group.patroniScope);
        expect(p.name).toBe(member.name);
        expect(p.etcd3).toEqual(expect.objectContaining({ hosts: group.etcd.clientHosts, protocol: 'https' }));
        expect(p.etcd3.hosts).toEqual(group.etcd.members.map((e) => `${e.privateIp}:2379`));
        const dcs = p.bootstrap.dcs;
        expect(dcs).toEqual(expect.objectContaining({
          ttl: topology.patroni.ttl,
          loop_wait: topology.patroni.loopWait,
          retry_timeout: topology.patroni.retryTimeout,
          maximum_lag_on_failover: topology.patroni.maximumLagOnFailover,
          failsafe_mode: topology.patroni.failsafeMode,
          synchronous_mode: topology.patroni.synchronousMode !== 'off',
          synchronous_mode_strict: topology.patroni.synchronousMode === 'strict',
          synchronous_node_count: topology.patroni.synchronousNodeCount,
        }));
        expect(dcs.postgresql.use_pg_rewind).toBe(true);
        expect(dcs.postgresql.use_slots).toBe(true);
        expect(p.postgresql.connect_address).toBe(`${member.privateIp}:5432`);
        expect(p.restapi.connect_address).toBe(`${member.privateIp}:8008`);
        expect(p.restapi.authentication.username).toBe(topology.patroni.restApiUser);
        expect(p.postgresql.basebackup).toEqual([{ checkpoint: 'fast' }]);
        expect(p.postgresql.data_dir).toBe(`/var/lib/postgresql/${topology.postgres.version}/data`);
        expect(p.postgresql.bin_dir).toBe(`/usr/lib/postgresql/${topology.postgres.version}/bin`);
        expect(p.postgresql.parameters['snowflake.node']).toBe(member.snowflakeNodeId || undefined);
      }
    }
  });

  test('Postgres parameters: logical replication settings, the engine\'s libraries and the user\'s own', () => {
    const group = topology.nodeGroups[0];
    const p = yamlFileOf(machines.find((m) => m.name === group.members[0].name)!.text, PATRONI);
    const parameters = p.bootstrap.dcs.postgresql.parameters;
    expect(parameters).toEqual(expect.objectContaining({
      wal_level: 'logical', track_commit_timestamp: 'on', hot_standby_feedback: 'on', wal_log_hints: 'on',
      wal_sender_timeout: '10s', password_encryption: 'scram-sha-256',
      ...topology.postgres.parameters,
    }));
    const peers = topology.nodeGroups.length - 1;
    expect(parameters.max_replication_slots).toBeGreaterThanOrEqual(group.members.length + peers + 10);
    expect(parameters.max_wal_senders).toBe(parameters.max_replication_slots);
    const preload = { spock: topology.replication.snowflakeIds ? 'spock,snowflake' : 'spock', pglogical: 'pglogical', native: undefined };
    expect(parameters.shared_preload_libraries).toBe(preload[topology.replication.engine]);
    if (topology.replication.engine === 'spock') expect(parameters['spock.conflict_resolution']).toBe('last_update_wins');
    if (topology.replication.engine === 'pglogical') expect(parameters['pglogical.conflict_resolution']).toBe(topology.replication.conflictPolicy);
    expect(p.postgresql.parameters).toEqual(expect.objectContaining({ ssl: 'on' }));
  });

  test('bounded WAL retention: slots keep at most the declared share of each member\'s data disk (computed at boot)', () => {
    for (const m of machines.filter((x) => x.role === 'postgres')) {
      const p = yamlFileOf(m.text, PATRONI);
      expect(p.postgresql.parameters.max_slot_wal_keep_size).toBe(`{{disk-share:/var/lib/postgresql:${topology.replication.walRetentionPercent}-1184}}`);
      expect(p.bootstrap.dcs.postgresql.parameters).not.toHaveProperty('max_slot_wal_keep_size');
    }
  });

  test('pg_hba: SSL + SCRAM from the fleet\'s and the clients\' CIDRs only', () => {
    const member = machines.find((m) => m.role === 'postgres')!;
    const template = yamlFileOf(member.text, PATRONI);
    // In the dynamic configuration, from the mesh document (so a group added later is admitted): not member-local.
    expect(template.postgresql).not.toHaveProperty('pg_hba');
    expect(template.bootstrap.dcs.postgresql.pg_hba).toBe('{{mesh:pg_hba}}');
    const p = patroniWithMeshOf(topology, member.name, member.text);
    const hba = p.bootstrap.dcs.postgresql.pg_hba as string[];
    // The deprecated bootstrap.pg_hba (Patroni 3.0.2's validator wants it) only has the machine's own lines.
    expect(hba.slice(0, p.bootstrap.pg_hba.length)).toEqual(p.bootstrap.pg_hba);
    expect(p.bootstrap.pg_hba.join('\n')).not.toMatch(/hostssl/);
    const rules = hba.map((line) => line.split(/\s+/));
    const network = rules.filter((r) => r[0] !== 'local');
    const sources = [...new Set(network.map((r) => r[3]))].sort();
    expect(sources).toEqual([...new Set([...topology.network.fleetCidrs, ...topology.network.clientCidrs, '127.0.0.1/32'])].sort());
    for (const r of network) {
      expect(r[r.length - 1]).toBe('scram-sha-256');
      // Only the local replication rule may go without SSL; the rest are hostssl.
      expect(r[0] === 'hostssl' || (r[0] === 'host' && r[3] === '127.0.0.1/32' && r[1] === 'replication')).toBe(true);
    }
    // The superuser over the local socket only (peer): SQL, and the replication protocol (ALTER_REPLICATION_SLOT);
    // postgres_exporter's role (peer: only the prometheus system user).
    expect(rules.filter((r) => r[0] === 'local')).toEqual([['local', 'all', topology.postgres.superuser, 'peer'],
      ['local', 'replication', topology.postgres.superuser, 'peer'], ['local', 'all', 'prometheus', 'peer']]);
    expect(hba.join('\n')).not.toMatch(/0\.0\.0\.0\/0|trust|md5|password$/);
    // Clients reach data, never the replication protocol.
    for (const cidr of topology.network.clientCidrs) {
      expect(network.filter((r) => r[3] === cidr).map((r) => r[1])).toEqual(['all']);
    }
  });

  test('permanent slots: one per subscription of another group to this one, named as the engine names it (pglogical: and its resume slot)', () => {
    for (const group of topology.nodeGroups) {
      const text = machines.find((m) => m.name === group.members[0].name)!.text;
      expect(yamlFileOf(text, PATRONI).bootstrap.dcs.slots).toBe('{{mesh:slots}}');
      const p = patroniWithMeshOf(topology, group.members[0].name, text);
      const incoming = topology.subscriptions.filter((s) => s.provider === group.name);
      const slots = p.bootstrap.dcs.slots;
      const db = topology.postgres.database;
      if (topology.replication.engine === 'spock') {
        expect(slots).toEqual({});
        expect(p.bootstrap.dcs.ignore_slots).toEqual([{ type: 'logical', plugin: 'spock_output' }]);
      } else if (topology.replication.engine === 'pglogical') {
        expect(Object.keys(slots).sort()).toEqual(incoming.flatMap((s) => {
          const slot = pglogicalSlotName(db, group.replicationNodeName, s.name);
          return [slot, `${slot}_r`];
        }).sort());
        for (const slot of Object.values(slots)) expect(slot).toEqual({ type: 'logical', database: db, plugin: 'pglogical_output' });
      } else {
        expect(Object.keys(slots).sort()).toEqual(incoming.map((s) => s.name).sort());
        for (const slot of Object.values(slots)) expect(slot).toEqual({ type: 'logical', database: db, plugin: 'pgoutput' });
      }
      const perSubscription = { spock: 0, pglogical: 2, native: 1 }[topology.replication.engine];
      expect(Object.keys(slots)).toHaveLength(perSubscription * (topology.nodeGroups.length - 1));
    }
  });

  test('etcd: one member config per quorum member with the group\'s cluster, token, timings, pre-vote and TLS', () => {
    for (const group of topology.nodeGroups) {
      for (const member of group.etcd.members) {
        const text = machines.find((m) => m.name === member.name)!.text;
        const e = yamlFileOf(text, ETCD);
        expect(e).toEqual(expect.objectContaining({
          name: member.name,
          'initial-cluster': group.etcd.initialCluster,
          'initial-cluster-token': group.etcd.clusterToken,
          'initial-cluster-state': 'new',
          'heartbeat-interval': group.etcd.heartbeatIntervalMs,
          'election-timeout': group.etcd.electionTimeoutMs,
          'listen-peer-urls': member.peerUrl,
          'listen-client-urls': member.clientUrl,
          'advertise-client-urls': member.clientUrl,
          'initial-advertise-peer-urls': member.peerUrl,
          'pre-vote': true,
          // Patroni's etcd3 client needs the gRPC gateway, which a config file leaves off in etcd 3.4.
          'enable-grpc-gateway': true,
        }));
        expect(e['initial-cluster'].split(',')).toEqual(group.etcd.members.map((m) => `${m.name}=https://${m.privateIp}:2380`));
        for (const side of ['client-transport-security', 'peer-transport-security']) {
          expect(e[side]).toEqual(expect.objectContaining({ 'client-cert-auth': true, 'trusted-ca-file': '/etc/distributed-postgres/tls/ca.crt' }));
        }
        // The bootstrap flips this exact line to `existing` when it rejoins a running quorum.
        expect(fileOf(text, ETCD)).toMatch(/^initial-cluster-state: new$/m);
      }
      // Postgres members of a dedicated quorum run no etcd.
      for (const member of group.members) {
        const text = machines.find((m) => m.name === member.name)!.text;
        if (member.runsEtcd) expect(() => fileOf(text, ETCD)).not.toThrow();
        else expect(() => fileOf(text, ETCD)).toThrow();
      }
    }
  });
});

test('the declaration drives the numbers (timing profile, latency class, sync count)', () => {
  const fast = topologyOf(pglogicalFleet());
  const p = yamlFileOf(renderCloudConfig(fast, 'rehearse-a-pg1'), PATRONI);
  expect([p.bootstrap.dcs.ttl, p.bootstrap.dcs.loop_wait, p.bootstrap.dcs.retry_timeout]).toEqual([20, 2, 9]);
  const strict = topologyOf(strictFleet());
  const s = yamlFileOf(renderCloudConfig(strict, 'strict-tokyo-pg1'), PATRONI);
  expect(s.bootstrap.dcs).toEqual(expect.objectContaining({
    ttl: 45, loop_wait: 5, retry_timeout: 12, synchronous_mode: true, synchronous_mode_strict: true, synchronous_node_count: 2,
    maximum_lag_on_failover: 4096, failsafe_mode: false,
  }));
  const e = yamlFileOf(renderCloudConfig(strict, 'strict-tokyo-etcd5'), ETCD);
  expect([e['heartbeat-interval'], e['election-timeout']]).toEqual([300, 3000]);
  const off = topologyOf({ ...pglogicalFleet(), ha: { synchronousMode: SynchronousMode.OFF, timingProfile: TimingProfile.DEFAULT } });
  const o = yamlFileOf(renderCloudConfig(off, 'rehearse-b-pg2'), PATRONI);
  expect(o.bootstrap.dcs.synchronous_mode).toBe(false);
  expect(o.bootstrap.dcs.synchronous_node_count).toBeUndefined();
  expect(o.bootstrap.dcs.ttl).toBe(30);
});

test('pglogical slot names equal what pglogical 2.4.2 computes (pglogical_gen_slot_name on PostgreSQL 15)', () => {
  // Captured from `SELECT pglogical.pglogical_gen_slot_name(db, node, sub)` on Debian's postgresql-15-pglogical 2.4.2.
  expect(pglogicalSlotName('app', 'use1', 'sub_euw1_use1')).toBe('pgl_app_use1_sub_euw1_use1');
  expect(pglogicalSlotName('application_database_x', 'group-with-long-name-20', 'sub_group_with_long_name_20_other_group_xx'))
    .toBe('pgl_applicat1f2f472_group_wi9f171c5_sub_grou0c17840');
  expect(pglogicalSlotName('db_4woryq1l4arwptu451fxjtydf_ui7w-aanesqg-jol2wjnz8kf9tm5n7f2h',
    'node_4woryq1l4arwptu451fxjtydf_ui7w-aanesqg-jol2wjnz8kf9tm5n7f2h', 'sub_4woryq1l4arwptu451fxjtydf_ui7w-aanesqg-jol2wjnz8kf9tm5n7f2h'))
    .toBe('pgl_db_4wory5918535_node_4wo48c1811_sub_4wor1895281');
  const t = topologyOf(pglogicalFleet());
  const slots = patroniWithMeshOf(t, 'rehearse-a-pg1').bootstrap.dcs.slots;
  expect(Object.keys(slots)).toEqual(['pgl_app_a_sub_b_a', 'pgl_app_a_sub_b_a_r']);
});

test('golden images: nothing installed, package_update and package_upgrade off; binDir reaches Patroni and the scripts', () => {
  const props = {
    ...rehearsalSpockFleet(),
    postgres: { packageSource: PackageSource.IMAGE, version: 17, binDir: '/opt/postgres/17/bin' },
  };
  const text = renderCloudConfig(topologyOf(props), 'rh-spock-b-pg2');
  const config = parse(text);
  expect(config).not.toHaveProperty('packages');
  expect(config).not.toHaveProperty('apt');
  expect(config).not.toHaveProperty('bootcmd');
  expect(config.package_update).toBe(false);
  expect(config.package_upgrade).toBe(false);
  expect(yamlFileOf(text, PATRONI).postgresql.bin_dir).toBe('/opt/postgres/17/bin');
  expect(fileOf(text, '/etc/distributed-postgres/member.env')).toMatch(/^DPG_PG_BIN='\/opt\/postgres\/17\/bin'$/m);
  expect(text).not.toContain('/usr/lib/postgresql/');
  // The same fleet from pgEdge's packages installs them (and sets up the repository first).
  const pgedge = parse(renderCloudConfig(topologyOf({ ...props, postgres: { packageSource: PackageSource.PGEDGE, version: 17 } }), 'rh-spock-b-pg2'));
  expect(pgedge.packages).toContain('pgedge-enterprise-postgres-17');
  expect(pgedge.package_update).toBe(true);
});

test('bounded WAL retention follows replication.walRetentionPercent (20 by default)', () => {
  const fleet = ledgerFleet();
  const retention = (props: DistributedPostgresProps) => {
    const topology = topologyOf(props);
    const member = topology.nodeGroups[0].members[0].name;
    return yamlFileOf(renderAll(topology).find((m) => m.name === member)!.text, PATRONI).postgresql.parameters.max_slot_wal_keep_size;
  };
  // The share bounds pg_wal as a whole: the slots get it less max_wal_size (1 GB), wal_keep_size (Patroni's 128 MB)
  // and two 16 MB segments, or less the declared values of those.
  expect(retention(fleet)).toBe('{{disk-share:/var/lib/postgresql:20-1184}}');
  expect(retention({ ...fleet, replication: { ...fleet.replication, walRetentionPercent: 10 } })).toBe('{{disk-share:/var/lib/postgresql:10-1184}}');
  expect(retention({ ...fleet, postgres: { ...fleet.postgres, parameters: { max_wal_size: '2GB', wal_keep_size: '256' } } }))
    .toBe('{{disk-share:/var/lib/postgresql:20-2336}}');
});

test('yamlText: the memo of texts by JSON keeps apart values that JSON writes alike and YAML does not', () => {
  const comment = 'memo';
  // Each pair: the same JSON, different YAML (or a value JSON cannot tell from another). The first of each is written first.
  const pairs: [unknown, unknown, string][] = [
    [{ a: 0 }, { a: -0 }, 'a: -0'],
    [{ a: null }, { a: Infinity }, 'a: .inf'],
    [{ a: '1970-01-01T00:00:00.000Z' }, { a: new Date(0) }, 'a: 1970-01-01'],
    [{ a: {} }, { a: new Map([['x', 1]]) }, 'a: !!omap'],
  ];
  for (const [first, second, expected] of pairs) {
    expect(yamlText(first, comment)).not.toContain(expected);
    expect(yamlText(second, comment)).toContain(expected);
  }
  // The same value again: the same text; another comment: another text.
  const config = parse(fileOf(renderCloudConfig(topologyOf(pglogicalFleet()), 'rehearse-a-pg1'), '/etc/distributed-postgres/patroni.yml.template'));
  expect(yamlText(structuredClone(config), comment)).toBe(yamlText(config, comment));
  expect(yamlText(config, 'other')).toMatch(/^# other\n/);
});
