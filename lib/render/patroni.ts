/**
 * Patroni's configuration for one Postgres member, as a template: every password is a `{{secret:NAME}}`
 * placeholder that materialize-secrets fills at boot. Cluster-wide settings go to `bootstrap.dcs` (the group's
 * dynamic configuration, written once by the first member); member-local ones to `postgresql`.
 */
import { MANAGED_PARAMETERS, RenderedParameter } from '../declaration/managed-parameters';
import { walOverheadMb } from '../declaration/derived';
import { groupCidrs, Member, NodeGroup, PORTS, Topology } from '../topology/topology';
import { Machine } from './machine';
import { archiveParameters } from './backup';
import { exporterPgHba } from './metrics';
import { replicationEngine } from './mesh';
import { postgresBinDir } from './packages';
import { diskSharePlaceholder, FILES, meshPlaceholder, secretPlaceholder } from './paths';
import { checked } from './quote';

/** Where Patroni keeps the cluster's data: on the data disk mounted at /var/lib/postgresql. */
export function postgresDataDir(topology: Topology): string {
  return `${FILES.postgresHome}/${topology.postgres.version}/data`;
}

/**
 * postgresql.conf settings the renderer writes. Typed by the managed-parameter list, so setting a parameter the
 * declaration does not reserve is a compile error: a user's `postgres.parameters` could otherwise override it.
 */
export type RenderedParameters<V = string | number> = Partial<Record<RenderedParameter, V>>;

/**
 * Worker, slot and sender counts sized to the mesh: each peer group needs a slot, a sender and apply/sync workers.
 * Sized for `replication.maxNodeGroups`, not for the groups declared today: these need a restart to change, so a group
 * added later must find room in what the running members reserved (and the user-data stays the same meanwhile).
 */
export function replicationCapacity(topology: Topology, group: NodeGroup): RenderedParameters<number> {
  const peers = Math.max(topology.replication.maxNodeGroups, topology.nodeGroups.length) - 1;
  const slots = 10 + group.members.length + 2 * peers;
  const capacity: RenderedParameters<number> = {
    max_replication_slots: slots,
    max_wal_senders: slots,
    max_worker_processes: 16 + 2 * peers,
  };
  if (topology.replication.engine === 'native') capacity.max_logical_replication_workers = 4 + 2 * peers;
  return capacity;
}

/** Cluster-wide Postgres parameters (bootstrap.dcs.postgresql.parameters): the managed ones and the user's own. */
export function clusterParameters(topology: Topology, group: NodeGroup): Record<string, string | number> {
  const engine = replicationEngine(topology.replication.engine);
  const managed: RenderedParameters = {
    hot_standby_feedback: 'on',
    password_encryption: 'scram-sha-256',
    track_commit_timestamp: 'on',
    wal_level: 'logical',
    wal_log_hints: 'on',
    // An isolated old primary stops its walsenders (and so its synchronous commits) after this long.
    wal_sender_timeout: '10s',
    ...replicationCapacity(topology, group),
    ...engine.parameters(topology),
    // Backups: whichever member leads archives its WAL to the group's pgBackRest repository.
    ...archiveParameters(group),
  };
  const preload = engine.preloadLibraries(topology);
  if (group.restore) {
    // A restored group holds its source's subscriptions: without the engine's library and with no logical
    // replication workers, none of them starts, so it never connects to the other groups as the mesh role (nor takes
    // a live group's slot). The engine's other settings stay (harmless without the library).
    managed.max_logical_replication_workers = 0;
    // Written out empty: the restored postgresql.conf is the source's until Patroni rewrites it.
    managed.shared_preload_libraries = '';
  } else if (preload.length > 0) {
    managed.shared_preload_libraries = preload.join(',');
  }
  // Validation rejects managed names (DPG-POSTGRES); a topology built without it still cannot override them.
  const own = Object.entries(topology.postgres.parameters).filter(([name]) => !MANAGED_PARAMETERS.includes(name));
  const merged: Record<string, string | number> = { ...Object.fromEntries(own), ...managed };
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]]));
}

/** The pg_hba lines for the machine itself: peer auth on the local socket for the superuser, replication over 127.0.0.1. */
export function localPgHba(topology: Topology): string[] {
  const replicationUser = checked('a role name', topology.postgres.replicationUser);
  const superuser = checked('a role name', topology.postgres.superuser);
  return [
    `local all ${superuser} peer`,
    // mesh-keeper sets a slot's failover flag with ALTER_REPLICATION_SLOT, a command of the replication protocol.
    `local replication ${superuser} peer`,
    // Patroni replicas connect for replication over 127.0.0.1 as well (measured with Patroni 3.0.2).
    `host replication ${replicationUser} 127.0.0.1/32 scram-sha-256`,
    // postgres_exporter (monitoring): its own role, over the socket, as the package's system user of the same name.
    ...exporterPgHba(topology),
  ];
}

/**
 * pg_hba: SSL + SCRAM from the fleet's and the clients' CIDRs only; peer auth on the local socket for the superuser.
 * It grows with the fleet (a line per node group's range), so it travels in the mesh document (see patroniConfig).
 */
export function pgHba(topology: Topology, group?: NodeGroup): string[] {
  const replicationUser = checked('a role name', topology.postgres.replicationUser);
  const meshUser = checked('a role name', topology.postgres.meshUser);
  const cidrs = (list: string[]) => list.map((cidr) => checked('an IPv4 CIDR', cidr));
  // A restored group (restoreFrom) stands apart from the mesh: the other groups refuse the mesh role and replication
  // connections from its range before the fleet-wide rules, so its copy of the source's subscriptions could never
  // take a live group's slot even if its engine ran.
  const restored = topology.nodeGroups.filter((g) => g.restore && g.name !== group?.name).flatMap(groupCidrs);
  return [
    ...localPgHba(topology),
    ...cidrs(restored).flatMap((cidr) => [`host replication all ${cidr} reject`, `host all ${meshUser} ${cidr} reject`]),
    ...cidrs(topology.network.fleetCidrs).map((cidr) => `hostssl replication ${replicationUser} ${cidr} scram-sha-256`),
    ...cidrs([...topology.network.fleetCidrs, ...topology.network.clientCidrs]).map((cidr) => `hostssl all all ${cidr} scram-sha-256`),
  ];
}

const BOOLEAN_TAGS = ['clonefrom', 'noloadbalance', 'nofailover', 'nostream', 'nosync'];

function patroniTags(group: NodeGroup): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(group.patroniTags).map(([key, value]) => {
    if (BOOLEAN_TAGS.includes(key) && (value === 'true' || value === 'false')) return [key, value === 'true'];
    if (/^\d+$/.test(value)) return [key, Number(value)];
    return [key, value];
  }));
}

/** The name of a restored group's bootstrap method in Patroni's configuration (`bootstrap.method`). */
export const RESTORE_BOOTSTRAP_METHOD = 'pgbackrest_restore';

export function patroniConfig(machine: Machine): Record<string, unknown> {
  const { topology, group } = machine;
  const member = machine.member as Member;
  const { postgres, patroni, secrets } = topology;
  const engine = replicationEngine(topology.replication.engine);
  const verifyFull = { sslmode: 'verify-full', sslrootcert: FILES.caCert };
  const ignoreSlots = engine.ignoreSlots();
  const localParameters: RenderedParameters = {
    ssl: 'on',
    ssl_ca_file: FILES.caCert,
    ssl_cert_file: FILES.memberCert,
    ssl_key_file: FILES.postgresKey,
    unix_socket_directories: FILES.socketDir,
    // Bounded retention: a peer group or standby away longer than this loses its slot rather than filling the data
    // disk. The WAL budget (the declared share of the disk the member really has, computed at its first boot, so
    // resizing a disk in the declaration changes no machine's user-data) less what pg_wal holds besides the slots
    // (max_wal_size, wal_keep_size, two segments): pg_wal as a whole stays within the budget.
    max_slot_wal_keep_size: diskSharePlaceholder(FILES.postgresHome, topology.replication.walRetentionPercent, walOverheadMb(topology.postgres.parameters)),
  };
  if (member.snowflakeNodeId > 0) localParameters['snowflake.node'] = member.snowflakeNodeId;
  return {
    scope: group.patroniScope,
    namespace: '/service/',
    name: member.name,
    restapi: {
      listen: `0.0.0.0:${patroni.restApiPort}`,
      connect_address: `${member.privateIp}:${patroni.restApiPort}`,
      certfile: FILES.memberCert,
      keyfile: FILES.postgresKey,
      cafile: FILES.caCert,
      authentication: { username: patroni.restApiUser, password: secretPlaceholder(secrets.restApiPassword) },
    },
    etcd3: {
      hosts: group.etcd.clientHosts,
      protocol: 'https',
      cacert: FILES.caCert,
      cert: FILES.memberCert,
      key: FILES.postgresKey,
    },
    bootstrap: {
      dcs: {
        ttl: patroni.ttl,
        loop_wait: patroni.loopWait,
        retry_timeout: patroni.retryTimeout,
        maximum_lag_on_failover: patroni.maximumLagOnFailover,
        synchronous_mode: patroni.synchronousMode !== 'off',
        synchronous_mode_strict: patroni.synchronousMode === 'strict',
        ...(patroni.synchronousMode !== 'off' ? { synchronous_node_count: patroni.synchronousNodeCount } : {}),
        failsafe_mode: patroni.failsafeMode,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: clusterParameters(topology, group),
          // pg_hba and the permanent slots grow with the fleet and change when node groups come and go: they are
          // taken from the mesh document at boot (for the group's first member) and kept in the dynamic
          // configuration by the leader's mesh-keeper after that (mesh-sync dcs). Not in the member-local
          // postgresql section, which would win over the dynamic one.
          pg_hba: meshPlaceholder('pg_hba'),
        },
        slots: meshPlaceholder('slots'),
        ...(ignoreSlots.length > 0 ? { ignore_slots: ignoreSlots } : {}),
      },
      // Deprecated in favour of postgresql.pg_hba (the dynamic one above wins), but Patroni 3.0.2's --validate-config
      // requires it.
      pg_hba: localPgHba(topology),
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums'],
      // A restored group (restoreFrom) starts from its source's backup instead of initdb: Patroni's custom bootstrap
      // method, on the group's first member; pgBackRest's recovery settings are kept and Postgres promotes at the target.
      ...(group.restore ? {
        method: RESTORE_BOOTSTRAP_METHOD,
        [RESTORE_BOOTSTRAP_METHOD]: { command: FILES.restoreBootstrap, keep_existing_recovery_conf: true },
      } : {}),
      post_bootstrap: FILES.postBootstrap,
    },
    postgresql: {
      listen: `0.0.0.0:${PORTS.postgres}`,
      connect_address: `${member.privateIp}:${postgres.port}`,
      data_dir: postgresDataDir(topology),
      bin_dir: postgresBinDir(topology),
      pgpass: FILES.patroniPgpass,
      use_unix_socket: true,
      authentication: {
        superuser: { username: postgres.superuser, password: secretPlaceholder(secrets.superuserPassword) },
        replication: { username: postgres.replicationUser, password: secretPlaceholder(secrets.replicationPassword), ...verifyFull },
        rewind: { username: postgres.rewindUser, password: secretPlaceholder(secrets.rewindPassword), ...verifyFull },
      },
      parameters: localParameters,
      // Replicas clone without waiting for a spread checkpoint (measured: ~24 s instead of ~130 s to a replicating mesh).
      basebackup: [{ checkpoint: 'fast' }],
      callbacks: { on_role_change: FILES.onRoleChange },
      // Before a member accepts writes: provider slots that moved past what it holds are rewound (resume slots).
      // Not in a restored group: its data's subscriptions and slots are its source's, and the script would act on the live mesh.
      ...(engine.resumeSlots && !group.restore ? { pre_promote: FILES.prePromote } : {}),
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false, ...patroniTags(group) },
  };
}

/** Replaces the package's patroni.service (which reads /etc/patroni/config.yml); waits for the data disk. */
export function patroniUnit(): string {
  return `[Unit]
Description=Patroni for this node group (distributed-postgres)
After=network-online.target etcd.service
Wants=network-online.target
RequiresMountsFor=${FILES.postgresHome}
ConditionPathExists=${FILES.patroniConfig}

[Service]
Type=simple
User=postgres
Group=postgres
# libpq in the postmaster (subscriptions to other node groups) reads the mesh user's password from here, and
# looks for ~/.postgresql client files: HOME must be postgres' own even where no systemd sets it.
Environment=PGPASSFILE=${FILES.meshPgpass}
Environment=HOME=${FILES.postgresHome}
ExecStart=/usr/bin/patroni ${FILES.patroniConfig}
ExecReload=/bin/kill -s HUP $MAINPID
KillMode=process
TimeoutSec=30
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;
}
