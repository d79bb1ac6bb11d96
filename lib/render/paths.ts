/** Where the rendered files land on every machine (on top of PATHS in the topology). */
import { PATHS } from '../topology/topology';

const LIB = '/usr/local/lib/distributed-postgres';

export const FILES = {
  ...PATHS,
  lib: LIB,
  memberEnv: `${PATHS.root}/member.env`,
  etcdConfig: `${PATHS.root}/etcd.yaml`,
  patroniTemplate: `${PATHS.root}/patroni.yml.template`,
  /** Written by the bootstrap with the secrets filled in (0600, postgres). */
  patroniConfig: `${PATHS.root}/patroni.yml`,
  meshDir: `${PATHS.root}/mesh`,
  secretCommand: '/usr/local/sbin/dpg-secret',
  secretBackend: `${LIB}/secret-backend`,
  materializeSecrets: `${LIB}/materialize-secrets`,
  issueCertificate: `${LIB}/issue-certificate`,
  mountDataDisk: `${LIB}/mount-data-disk`,
  etcdJoin: `${LIB}/etcd-join`,
  postBootstrap: `${LIB}/post-bootstrap`,
  onRoleChange: `${LIB}/on-role-change`,
  prePromote: `${LIB}/pre-promote`,
  meshKeeper: `${LIB}/mesh-keeper`,
  meshSync: `${LIB}/mesh-sync`,
  /** Compares this group's replicated tables with its peers' (run by mesh-keeper on the leader). */
  antiEntropy: `${LIB}/anti-entropy`,
  /** Takes a pgBackRest backup (`full|diff|incr`) or checks the repository (`check`), on the group's leader only. */
  backup: `${LIB}/backup`,
  /** A restored group's bootstrap (Patroni's custom bootstrap method): restores the source group's backup to the target time. */
  restoreBootstrap: `${LIB}/restore-bootstrap`,
  /** pgBackRest's configuration (the group's stanza and repository; no credentials: the machine's identity). */
  pgbackrestDir: '/etc/pgbackrest',
  pgbackrestConfig: '/etc/pgbackrest/pgbackrest.conf',
  /** Written at boot by the bootstrap: options that follow the machine (the archive queue's bound, from its disk). */
  pgbackrestIncludeDir: '/etc/pgbackrest/conf.d',
  /** One line per backup or check the backup script ran. */
  backupLog: '/var/log/distributed-postgres-backup.log',
  /** In the user-data: brings the group's scripts document onto the machine (the bootstrap unit's first step). */
  loadScripts: `${LIB}/load-scripts`,
  /** Member certificate and its keys, one copy per service owner (Postgres and etcd check key ownership differently). */
  memberCert: `${PATHS.tlsDir}/member.crt`,
  memberKey: `${PATHS.tlsDir}/member.key`,
  postgresKey: `${PATHS.tlsDir}/postgres.key`,
  etcdKey: `${PATHS.tlsDir}/etcd.key`,
  /** The exporters' copy of the member key (0600, prometheus: the Debian packages' user). */
  prometheusKey: `${PATHS.tlsDir}/prometheus.key`,
  /** exporter-toolkit's web configuration of both exporters (TLS). */
  exporterWebConfig: `${PATHS.root}/metrics/web-config.yml`,
  /** postgres_exporter's custom queries (the dpg_* metrics of this member's node group; from the mesh document). */
  postgresExporterQueries: `${PATHS.root}/mesh/postgres-exporter-queries.yaml`,
  /** The exporter's role (run on the leader by the bootstrap; idempotent). */
  exporterRoleSql: `${PATHS.root}/metrics/exporter-role.sql`,
  /** node_exporter's textfile collector directory (Debian's default); mesh-keeper writes dpg_mesh.prom there. */
  textfileDir: '/var/lib/prometheus/node-exporter',
  etcdUnit: '/etc/systemd/system/etcd.service',
  patroniUnit: '/etc/systemd/system/patroni.service',
  meshUnit: '/etc/systemd/system/distributed-postgres-mesh.service',
  bootstrapUnit: '/etc/systemd/system/distributed-postgres-bootstrap.service',
  createclusterConf: '/etc/postgresql-common/createcluster.conf',
  /** Postgres' home is the data disk's mount point; the mesh user's password lives in its .pgpass. */
  postgresHome: '/var/lib/postgresql',
  meshPgpass: '/var/lib/postgresql/.pgpass',
  patroniPgpass: '/var/lib/postgresql/.pgpass.patroni',
  socketDir: '/var/run/postgresql',
  etcdDataRoot: '/var/lib/etcd',
  stateDir: '/var/lib/distributed-postgres',
  /** The bootstrap's last step and state (shell-sourceable `key=value` lines). */
  bootstrapStatus: '/var/lib/distributed-postgres/bootstrap.status',
  /** mesh-keeper's view of this group's side of the mesh (`key=value` lines: state, missing, problem..., updated). */
  meshStatus: '/var/lib/distributed-postgres/mesh.status',
  /**
   * Written by etcd-join once it decided how this machine's etcd member joins (the initial-cluster-state it chose):
   * until then etcd.service must not start, not even at a reboot (it would start as the member the static config
   * names, which a replaced machine no longer is).
   */
  etcdMemberDecided: '/var/lib/distributed-postgres/etcd-member',
  /** The last anti-entropy check's result (`state=clean|dirty|incomplete|not-leader`, finding=, note=, compared=, updated=). */
  antiEntropyStatus: '/var/lib/distributed-postgres/anti-entropy.status',
  /** The last backup or check on this member (kind, result, label, started, ended, message, updated). */
  backupStatus: '/var/lib/distributed-postgres/backup.status',
  /** One line per repair pre-promote made (a provider slot rewound to what the promoted member holds). */
  repairsLog: '/var/lib/distributed-postgres/repairs.log',
  runDir: '/run/distributed-postgres',
} as const;

/** GCP attaches the data disk with this device name, so it appears as /dev/disk/by-id/google-<name>. */
export const GCP_DATA_DISK_DEVICE_NAME = 'pgdata';

/** Secret placeholder in templates: `{{secret:NAME}}`, replaced at boot by materialize-secrets. */
export function secretPlaceholder(name: string): string {
  return `{{secret:${name}}}`;
}
export const SECRET_PLACEHOLDER_PATTERN = /^\{\{secret:[A-Za-z0-9_-]+\}\}$/;

/**
 * A value of Patroni's part of the group's mesh document in templates: `{{mesh:KEY}}`, replaced at boot by
 * materialize-secrets with that key of `patroni.json` in the mesh directory (mesh-sync writes it before).
 */
export function meshPlaceholder(key: string): string {
  return `{{mesh:${key}}}`;
}

/**
 * A share of a disk in templates: `{{disk-share:PATH:PERCENT}}` or `{{disk-share:PATH:PERCENT-MINUS}}`, replaced at
 * boot by materialize-secrets with PERCENT of the size of the file system holding PATH, less MINUS MB, as `<n>MB` (so
 * a value follows the disk the machine really has; at least 16 MB, one segment, where the disk is too small).
 */
export function diskSharePlaceholder(path: string, percent: number, minusMb = 0): string {
  return `{{disk-share:${path}:${percent}${minusMb > 0 ? `-${minusMb}` : ''}}}`;
}
