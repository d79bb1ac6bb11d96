/**
 * Backups on the machines: pgBackRest per node group (a stanza named after the group, its repository a path in the
 * fleet's bucket of the group's cloud region), WAL archived by whichever member leads (Patroni's dynamic configuration
 * carries `archive_command`, and only a primary archives with `archive_mode = on`), and backups taken by systemd timers
 * that fire on every member while the `backup` script acts only on the group's current leader (Patroni's REST API
 * says which member that is). No credentials anywhere: pgBackRest signs its requests with the machine's identity
 * (`repo1-s3-key-type=auto`: the instance profile through IMDSv2, pgBackRest 2.39+; `repo1-gcs-key-type=auto`: the
 * service account, 2.34+), and it verifies the object store's TLS certificate (its default).
 *
 * The files travel in the group's scripts document (they are the same on every member), so the user-data does not
 * grow; the bootstrap gives the configuration to postgres and bounds the archive queue from the disk the machine has.
 */
import { GroupBackup, GroupRestore, NodeGroup, Topology } from '../topology/topology';
import { postgresDataDir } from './patroni';
import { FILES } from './paths';
import { oneLine, shellQuote } from './quote';

/** The kinds of backup a timer can take (pgBackRest `--type`). */
export type BackupKind = 'full' | 'diff' | 'incr';

/** pgBackRest processes a backup uses: enough to overlap compression with upload, little enough to leave Postgres its cores. */
export const BACKUP_PROCESS_MAX = 2;

/**
 * Share of the data disk WAL waiting to be archived may take (pgBackRest `archive-push-queue-max`, written at boot):
 * beyond it pgBackRest drops WAL (breaking point-in-time recovery until the next full backup) rather than let an
 * unreachable object store fill the disk and stop Postgres. Serving comes before the archive.
 */
export const ARCHIVE_QUEUE_PERCENT = 20;

/** How long `backup check` (run on taking the lead) waits for Patroni's REST API to report this member as leader. */
export const CHECK_LEADER_WAIT_SECONDS = 30;

const STANZA = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The group's stanza, checked (it is written into a shell word, a config section and `archive_command`). */
export function stanzaOf(backup: GroupBackup): string {
  if (!STANZA.test(backup.stanza)) throw new Error(`render: ${JSON.stringify(backup.stanza)} is not a pgBackRest stanza name we write`);
  return backup.stanza;
}

/** Postgres' archive parameters of a group with backups (Patroni's dynamic configuration: whichever member leads archives). */
export function archiveParameters(group: NodeGroup): { archive_mode: string; archive_command: string; archive_timeout: number } | undefined {
  if (!group.backup) return undefined;
  return {
    archive_mode: 'on',
    archive_command: `pgbackrest --stanza=${stanzaOf(group.backup)} archive-push %p`,
    archive_timeout: group.backup.archiveTimeoutSeconds,
  };
}

/** The S3 endpoint of an AWS region (China's regions have their own domain). */
export function s3Endpoint(region: string): string {
  return `s3.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** `/etc/pgbackrest/pgbackrest.conf` of a group with backups, or of a restored group (its source's repository, read only). */
export function pgbackrestConfig(topology: Topology, group: NodeGroup): string {
  if (group.restore) return restoredPgbackrestConfig(topology, group, group.restore);
  const backup = group.backup!;
  const stanza = stanzaOf(backup);
  const repository = repositoryLines(group, backup.bucket);
  return [
    `# pgBackRest for node group ${oneLine(group.name)} of fleet ${oneLine(topology.fleetName)}. Rendered by cdktf-distributed-postgres: do not edit.`,
    '# No credentials: the machine\'s identity signs every request; TLS to the object store is verified (the default).',
    `# ${FILES.pgbackrestIncludeDir}/archive-queue.conf (written at boot) bounds the WAL waiting to be archived.`,
    '[global]',
    ...repository,
    `repo1-path=${backup.path}`,
    `repo1-retention-full=${backup.retentionFull}`,
    'repo1-retention-full-type=count',
    '# Small files (most of a cluster) go in bundles: fewer requests to the object store (pgBackRest 2.39+).',
    'repo1-bundle=y',
    'compress-type=zst',
    `process-max=${BACKUP_PROCESS_MAX}`,
    '# A backup starts with an immediate checkpoint rather than waiting for the next one.',
    'start-fast=y',
    'log-level-console=warn',
    'log-level-file=info',
    '',
    ...stanzaSection(topology, stanza),
  ].join('\n');
}

function stanzaSection(topology: Topology, stanza: string): string[] {
  return [
    `[${stanza}]`,
    `pg1-path=${postgresDataDir(topology)}`,
    `pg1-port=${topology.postgres.port}`,
    `pg1-socket-path=${FILES.socketDir}`,
    `pg1-user=${topology.postgres.superuser}`,
    '',
  ];
}

/**
 * A restored group's `pgbackrest.conf`: the SOURCE group's repository and stanza, which its machines may only read
 * (their role / service account has no write or delete there); no retention (it never backs up or expires anything)
 * and no archive command points at it (a restored group archives nothing).
 */
function restoredPgbackrestConfig(topology: Topology, group: NodeGroup, restore: GroupRestore): string {
  const stanza = restoreStanzaOf(restore);
  return [
    `# pgBackRest for node group ${oneLine(group.name)} of fleet ${oneLine(topology.fleetName)}, restored from node group ${oneLine(restore.sourceGroup)}.`,
    '# Rendered by cdktf-distributed-postgres: do not edit. The repository is the source group\'s, read only: this group',
    '# restores from it at its first boot and never archives or backs up into it.',
    '[global]',
    ...repositoryLines(group, restore.bucket),
    `repo1-path=${restore.path}`,
    `process-max=${BACKUP_PROCESS_MAX}`,
    'log-level-console=warn',
    'log-level-file=info',
    '',
    ...stanzaSection(topology, stanza),
  ].join('\n');
}

/**
 * Settings a restored group's bootstrap removes from the restored `postgresql.auto.conf` (the source's ALTER SYSTEM
 * settings, which would win over Patroni's): the engine's library, logical workers, archiving.
 */
export const RESTORE_SCRUBBED = ['shared_preload_libraries', 'max_logical_replication_workers', 'archive_mode', 'archive_command', 'archive_library'];

/** The source's stanza, checked like a group's own. */
export function restoreStanzaOf(restore: GroupRestore): string {
  if (!STANZA.test(restore.stanza)) throw new Error(`render: ${JSON.stringify(restore.stanza)} is not a pgBackRest stanza name we write`);
  return restore.stanza;
}

/** pgBackRest's target time as the restore takes it (UTC, `YYYY-MM-DD HH:MM:SS[.ffffff]+00`), checked. */
function restoreTarget(restore: GroupRestore): string {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$/.test(restore.targetTimeUtc)) {
    throw new Error(`render: ${JSON.stringify(restore.targetTimeUtc)} is not a restore target time we write`);
  }
  return restore.targetTimeUtc;
}

/**
 * A restored group's bootstrap: Patroni's custom bootstrap method runs it on the group's first member only (the
 * others clone from it) with `--scope=<scope> --datadir=<data dir>` (Patroni 3.0.2, postgresql/bootstrap.py
 * `_custom_bootstrap`). It restores the source's backups into the empty data directory up to the target time, with
 * pgBackRest's own recovery settings (`restore_command`, `recovery_target_time`, `recovery_target_action=promote`,
 * `recovery.signal`), which Patroni keeps (`keep_existing_recovery_conf`) and then starts: Postgres replays the
 * archived WAL to the target and promotes.
 */
export function restoreBootstrapScript(group: NodeGroup): string {
  const restore = group.restore!;
  const stanza = restoreStanzaOf(restore);
  return `#!/bin/bash
# Patroni custom bootstrap of node group ${oneLine(group.name)}: restore node group ${oneLine(restore.sourceGroup)}'s backup as it was at
# ${oneLine(restore.targetTime)} (${restoreTarget(restore)}). Called by Patroni as postgres with --scope=... --datadir=...
set -euo pipefail
datadir=
for arg in "$@"; do
  case "$arg" in
    --datadir=*) datadir=\${arg#--datadir=} ;;
    --scope=*) ;;
    *) echo "restore-bootstrap: unexpected argument $arg" >&2; exit 2 ;;
  esac
done
[ -n "$datadir" ] || { echo 'restore-bootstrap: no --datadir' >&2; exit 2; }
if [ -e "$datadir" ] && [ -n "$(ls -A "$datadir")" ]; then
  echo "restore-bootstrap: $datadir is not empty; refusing to restore over it" >&2; exit 1
fi
install -d -m 0700 "$datadir"
echo "restore-bootstrap: restoring stanza ${stanza} to ${restoreTarget(restore)} into $datadir" >&2
pgbackrest --stanza=${stanza} --pg1-path="$datadir" --type=time --target=${shellQuote(restoreTarget(restore))} \\
  --target-action=promote restore
# ALTER SYSTEM settings of the source (postgresql.auto.conf, restored with the data) win over Patroni's configuration:
# none may load the engine's library, start logical workers or archive into a repository. pgBackRest's recovery
# settings in the same file stay.
auto="$datadir/postgresql.auto.conf"
if [ -f "$auto" ]; then
  sed -i -E '/^[[:space:]]*(${RESTORE_SCRUBBED.join('|')})[[:space:]]*=/d' "$auto"
fi
`;
}

function repositoryLines(group: NodeGroup, bucket: string): string[] {
  return group.cloud === 'aws'
    ? [
      'repo1-type=s3',
      `repo1-s3-bucket=${bucket}`,
      `repo1-s3-endpoint=${s3Endpoint(group.region)}`,
      `repo1-s3-region=${group.region}`,
      '# The instance profile\'s temporary credentials, from the instance metadata service (IMDSv2).',
      'repo1-s3-key-type=auto',
    ]
    : [
      'repo1-type=gcs',
      `repo1-gcs-bucket=${bucket}`,
      '# The service account\'s tokens, from the metadata server.',
      'repo1-gcs-key-type=auto',
    ];
}

/**
 * `backup full|diff|incr|check`, run by the timers (every member) and, with `check`, by mesh-keeper on taking the lead:
 * on any member but the group's leader (Patroni's `GET /primary` over TLS answers 200 only there) it exits 0 doing
 * nothing; on the leader it creates the stanza when it does not exist yet (pgBackRest's `stanza-create` is idempotent),
 * then takes the backup (or runs `pgbackrest check`: WAL reaches the repository), records the result in the status
 * file and one line in the log. One at a time: a second run while one holds the lock is skipped.
 */
export function backupScript(topology: Topology, group: NodeGroup): string {
  const stanza = stanzaOf(group.backup!);
  return `#!/bin/bash
# backup full|diff|incr|check: a pgBackRest backup of node group ${oneLine(group.name)} (stanza ${stanza}), or a check that its WAL
# reaches the repository, on the group's leader only (elsewhere: exit 0, nothing done). One at a time. The result goes
# to ${FILES.backupStatus} (kind, result, label, started, ended, message, updated) and one line to
# ${FILES.backupLog}; pgBackRest's own log is in /var/log/pgbackrest.
set -uo pipefail
STANZA=${stanza}
PRIMARY_URL=https://127.0.0.1:${topology.patroni.restApiPort}/primary
CA=${FILES.caCert}
STATUS=${FILES.backupStatus}
LOG=${FILES.backupLog}
LOCK=${FILES.runDir}/backup.lock
kind=\${1:-}
case "$kind" in
  full|diff|incr|check) ;;
  *) echo "usage: backup full|diff|incr|check" >&2; exit 2 ;;
esac
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# The leader is the member Patroni's REST API answers 200 for at /primary (TLS, the fleet's CA). mesh-keeper runs the
# check as it sees this member promoted, moments before Patroni may say so: the check waits for it a little.
tries=1
[ "$kind" = check ] && tries=$((${CHECK_LEADER_WAIT_SECONDS} / 2))
for try in $(seq 1 "$tries"); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "$PRIMARY_URL" 2>/dev/null) || true
  [ "$code" = 200 ] && break
  [ "$try" -lt "$tries" ] && sleep 2
done
if [ "$code" != 200 ]; then
  echo "backup $kind: this member is not the leader of node group $STANZA (Patroni /primary: $code): nothing to do"
  exit 0
fi

install -d -m 0755 "$(dirname "$LOCK")" "$(dirname "$STATUS")"
exec 9>"$LOCK"
if ! flock -n 9; then
  echo "backup $kind: another backup or check is running on this member: skipped"
  exit 0
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
started=$(now)
# status RESULT LABEL ENDED MESSAGE
status() {
  printf 'kind=%s\\nresult=%s\\nlabel=%s\\nstarted=%s\\nended=%s\\nmessage=%s\\nupdated=%s\\n' \\
    "$kind" "$1" "$2" "$started" "$3" "$4" "$(now)" > "$STATUS.tmp" && mv -f "$STATUS.tmp" "$STATUS"
}
pgbackrest_run() { runuser -u postgres -- pgbackrest --stanza="$STANZA" --log-level-console=info "$@" >>"$out" 2>&1; }
# The last error pgBackRest printed, on one line.
last_error() { { grep -E 'ERROR|WARN' "$out" || tail -n 1 "$out"; } | tail -n 1 | tr -s '\\t ' ' ' | cut -c1-400; }

status running '' '' ''
result=ok
message=''
if ! pgbackrest_run stanza-create; then
  result=failed; message="stanza-create: $(last_error)"
elif [ "$kind" = check ]; then
  pgbackrest_run check || { result=failed; message="check: $(last_error)"; }
else
  pgbackrest_run --type="$kind" backup || { result=failed; message="backup: $(last_error)"; }
fi
label=$(sed -n 's/.*new backup label = \\([0-9A-Za-z_-]*\\).*/\\1/p' "$out" | tail -n 1)
status "$result" "$label" "$(now)" "$message"
line="$(now) $(hostname -s) $kind $result$([ -n "$label" ] && echo " $label")$([ -n "$message" ] && echo ": $message")"
echo "$line" >> "$LOG"
echo "backup $kind: $result$([ -n "$label" ] && echo " ($label)")$([ -n "$message" ] && echo ": $message")"
[ "$result" = ok ]
`;
}

/** The kinds of backup the group takes, with their `OnCalendar` expressions (UTC), in pgBackRest's terms. */
export function scheduledBackups(backup: GroupBackup): { kind: BackupKind; calendar: string }[] {
  return [
    { kind: 'full' as const, calendar: backup.fullCalendar },
    { kind: 'diff' as const, calendar: backup.differentialCalendar ?? '' },
    { kind: 'incr' as const, calendar: backup.incrementalCalendar ?? '' },
  ].filter((s) => s.calendar !== '');
}

/** `distributed-postgres-backup-<kind>.service`: one run of the backup script (it decides whether this member acts). */
export function backupServiceUnit(kind: BackupKind): string {
  return `[Unit]
Description=distributed-postgres ${kind} backup (pgBackRest; acts on the node group's leader only)
After=patroni.service network-online.target
ConditionPathExists=${FILES.pgbackrestConfig}

[Service]
Type=oneshot
ExecStart=${FILES.backup} ${kind}
# A full backup of a large cluster takes hours: no start timeout. Below Postgres for the CPU and the disk.
TimeoutStartSec=infinity
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
`;
}

/** `distributed-postgres-backup-<kind>.timer`: fires on every member at the group's calendar (UTC). */
export function backupTimerUnit(kind: BackupKind, calendar: string): string {
  return `[Unit]
Description=distributed-postgres ${kind} backup schedule (UTC)

[Timer]
OnCalendar=${calendar}
AccuracySec=1min

[Install]
WantedBy=timers.target
`;
}

/** Path of a backup unit in /etc/systemd/system. */
export function backupUnitPath(kind: BackupKind, suffix: 'service' | 'timer'): string {
  return `/etc/systemd/system/distributed-postgres-backup-${kind}.${suffix}`;
}
