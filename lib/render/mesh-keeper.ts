/**
 * Keeping the mesh in place and moving: `mesh-keeper` runs on every Postgres member. On the group's leader it keeps
 * pg_hba and the permanent slots of Patroni's dynamic configuration as the mesh document says, (re)applies the mesh
 * SQL (after a role change, every 5 minutes, and while incomplete every 2-4 s, backing off) and restarts subscriptions
 * whose apply worker is down: after a leader change in a remote group pglogical's worker backs off for minutes,
 * while disable + enable resumes it in ~0.2 s (measured). A plain service with a loop rather than a timer: it needs
 * nothing of systemd beyond starting it.
 */
import { ANTI_ENTROPY_AFTER_LEADER_CHANGE_SECONDS } from './anti-entropy';
import { MESH_SYNC_SECONDS } from './mesh-document';
import { meshMetricsShell } from './metrics';
import { RESYNC_SETTLE_SECONDS } from './mesh/resync';
import { FILES } from './paths';

/** How often the resume slots, paused subscriptions and the mesh's completeness are checked. */
export const KEEPER_INTERVAL_SECONDS = 10;
/**
 * How often the subscriptions' apply workers are checked (one local query): a worker that exited (e.g. on a table a
 * late node group had not created yet) is otherwise restarted by the engine only after its own back-off.
 */
export const DOWN_CHECK_SECONDS = 4;
/** The loop's tick: a role change or a due retry is acted on within this. */
export const KEEPER_TICK_SECONDS = 2;
/** Longest pause between attempts while the mesh is incomplete. */
export const MESH_RETRY_MAX_SECONDS = 4;
/** A complete mesh is re-applied this often (tables the application created since join their sets). */
export const MESH_REAPPLY_SECONDS = 300;

export function meshKeeperScript(): string {
  return `#!/bin/bash
# mesh-keeper: keeps this node group's side of the multi-master mesh in place and its subscriptions moving.
set -uo pipefail
. ${FILES.memberEnv}
mesh=${FILES.meshDir}
marker=${FILES.runDir}/role-changed

as_postgres() { runuser -u postgres -- "$@"; }
psql_in() { local db=$1; shift; as_postgres "$DPG_PG_BIN/psql" -X -q -h ${FILES.socketDir} -p "$DPG_PG_PORT" -d "$db" "$@"; }
log() { echo "mesh-keeper: $*"; }
# The status file: state (complete | incomplete | not-leader), objects missing, one problem= line per problem, one
# resync-needed= line per provider group that lost this group's slot (check_lost_slots), updated.
status() {
  install -d -m 0755 ${FILES.stateDir}
  last_status=("$1" "$2" "$3")
  { printf 'state=%s\\nmissing=%s\\n' "$1" "$2"; [ -n "$3" ] && printf '%s\\n' "$3" | sed 's/^/problem=/'
    [ -n "$resync_problem" ] && printf 'problem=%s\\n' "$resync_problem"
    [ -n "$resync_needed" ] && printf '%s\\n' "$resync_needed" | sed 's/^/resync-needed=/'
    printf 'repairs=%s\\n' "$(grep -c . ${FILES.repairsLog} 2>/dev/null || echo 0)"
    printf 'updated=%s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } > ${FILES.meshStatus}.tmp && mv -f ${FILES.meshStatus}.tmp ${FILES.meshStatus}
  write_mesh_metrics
}
${meshMetricsShell()}
# pre-promote (run by Patroni as postgres) appends a line per repair here.
[ -e ${FILES.repairsLog} ] || install -o postgres -g postgres -m 0644 /dev/null ${FILES.repairsLog}
# psql to another group's leader as the mesh user (password from the mesh .pgpass).
psql_remote() { local dsn=$1; shift; as_postgres env PGPASSFILE=${FILES.meshPgpass} "$DPG_PG_BIN/psql" -X -q "$dsn" "$@"; }
# The same, bounded (5 s to connect, 20 s in all): for a question to a provider that may not answer.
psql_remote_bounded() { local dsn=$1; shift; timeout 20 runuser -u postgres -- env PGPASSFILE=${FILES.meshPgpass} PGCONNECT_TIMEOUT=5 "$DPG_PG_BIN/psql" -X -q "$dsn" "$@"; }

is_primary() { [ "$(psql_in postgres -tA -c 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ]; }

allow_output_plugin() {
  psql_in postgres -v ON_ERROR_STOP=1 -v plugin="$DPG_OUTPUT_PLUGIN" -f "$mesh/allow-output-plugin.sql" >/dev/null
}

ensure_mesh_role() {
  # (psql interpolates :'role' in what it reads, not in -c.)
  if [ "$(psql_in postgres -tA -v role="$DPG_MESH_USER" <<<"SELECT 1 FROM pg_roles WHERE rolname = :'role'" 2>/dev/null)" = 1 ]; then
    return 0
  fi
  log "creating role $DPG_MESH_USER"
  ${FILES.materializeSecrets} role-sql "$DPG_MESH_USER" "$DPG_SECRET_MESH" $DPG_MESH_ROLE_ATTRIBUTES \\
    | psql_in postgres -v ON_ERROR_STOP=1 -f - >/dev/null
}

apply_mesh() {
  [ -f "$mesh/generation" ] || { log "no mesh document yet"; status incomplete 1 ''; return 1; }
  ensure_mesh_role || return 1
  psql_in "$DPG_DATABASE" -tA -v ON_ERROR_STOP=1 -f "$mesh/setup.sql" >/dev/null || return 1
  # A group joining a running fleet copies the rows it holds first (once; prints why it waits, or what it copied).
  if [ -f "$mesh/join.sql" ]; then
    local joined
    joined=$(psql_remote "host=${FILES.socketDir} port=$DPG_PG_PORT dbname=$DPG_DATABASE" -tA -f "$mesh/join.sql" 2>&1) || joined="waiting: $(tail -n 1 <<<"$joined")"
    [ -n "$joined" ] && log "join: $joined"
    case "$joined" in waiting*) status incomplete 1 ''; return 1 ;; esac
  fi
  # One statement per subscription: a provider group that is not up yet fails only its own.
  psql_in "$DPG_DATABASE" -tA -f "$mesh/subscriptions.sql" >/dev/null
  local missing problems=''
  missing=$(psql_in "$DPG_DATABASE" -tA -v ON_ERROR_STOP=1 -f "$mesh/verify.sql") || return 1
  # Problems the setup cannot fix by itself (e.g. a nullable delta-apply column): logged and kept in the status.
  if [ -f "$mesh/problems.sql" ]; then
    problems=$(psql_in "$DPG_DATABASE" -tA -f "$mesh/problems.sql" 2>/dev/null) || problems=''
    while IFS= read -r line; do [ -n "$line" ] && log "problem: $line"; done <<<"$problems"
  fi
  if [ "$missing" != 0 ]; then
    log "mesh incomplete: $missing object(s) missing (a provider group may not be up yet); retrying"
    status incomplete "$missing" "$problems"
    return 1
  fi
  status complete 0 "$problems"
  log "mesh complete$([ -n "$problems" ] && echo ", with problems (see above and ${FILES.meshStatus})")"
}

# Resume slots (pglogical, Spock): advances each provider's resume slot to what every member that can be promoted holds.
advance_resume_slots() {
  [ -f "$mesh/resume-marks.sql" ] || return 0
  local slot resume dsn target
  psql_in "$DPG_DATABASE" -tA -F $'\\t' -v ON_ERROR_STOP=1 -f "$mesh/resume-marks.sql" 2>/dev/null \
    | while IFS=$'\\t' read -r slot resume dsn target; do
        [ -n "$target" ] || continue
        # A slot its provider lost (re-sync needed) cannot be advanced, nor its resume slot.
        case $'\\n'"$resync_slots"$'\\n' in *$'\\n'"$slot"$'\\n'*) continue ;; esac
        psql_remote "$dsn" -tA -v ON_ERROR_STOP=1 -v slot="$resume" -v lsn="$target" -f "$mesh/resume-advance.sql" >/dev/null 2>&1 \
          || log "resume slot $resume: could not advance to $target at its provider (retrying at the next check)"
      done
}

# A subscription a provider's pre-promote paused and never enabled again (the promotion's repair did not finish):
# enabled after a while, so the mesh does not stay cut.
unpause_subscriptions() {
  [ -f "$mesh/resume-unpause.sql" ] || return 0
  local sub line
  for sub in $(psql_in "$DPG_DATABASE" -tA -F ' ' -f "$mesh/resume-unpause.sql" 2>/dev/null | awk '{print $1}'); do
    line="subscription $sub: paused by a provider's promotion that did not finish its repair; enabled again (origin not checked)"
    log "$line"; echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $line" >> ${FILES.repairsLog}
  done
}

# PostgreSQL 17+ native: the subscribers' slots carry the failover flag (synchronized_standby_slots gates only those).
# ALTER_REPLICATION_SLOT needs the slot idle: its sender is ended first, and the subscriber reconnects within seconds.
failover_slots() {
  [ -f "$mesh/failover-slots.sql" ] || return 0
  local slot pid
  psql_in "$DPG_DATABASE" -tA -F ' ' -f "$mesh/failover-slots.sql" 2>/dev/null | while read -r slot pid; do
    [ -n "$slot" ] || continue
    [ "$pid" = - ] || psql_in postgres -tA -c "SELECT pg_terminate_backend($pid)" >/dev/null 2>&1
    if as_postgres "$DPG_PG_BIN/psql" -X -q "host=${FILES.socketDir} port=$DPG_PG_PORT dbname=$DPG_DATABASE replication=database" \
        -c "ALTER_REPLICATION_SLOT \"$slot\" ( FAILOVER true )" >/dev/null 2>&1; then
      log "slot $slot: failover flag set (its sender now waits for the synchronous standbys)"
    fi
  done
}

# PostgreSQL 17+ native: synchronized_standby_slots follows the group's synchronous standbys.
sync_standby_slots() {
  [ -f "$mesh/standby-slots.sql" ] || return 0
  local now
  now=$(psql_in "$DPG_DATABASE" -tA -f "$mesh/standby-slots.sql" 2>/dev/null | tail -n 1)
  if [ -n "$now" ] && [ "$now" != "$standby_slots" ]; then log "$now"; standby_slots=$now; fi
}

restart_down_subscriptions() {
  local sub
  for sub in $(psql_in "$DPG_DATABASE" -tA -f "$mesh/down-subscriptions.sql" 2>/dev/null); do
    log "subscription $sub is down: disable + enable"
    psql_in "$DPG_DATABASE" -tA -v ON_ERROR_STOP=1 -v sub="$sub" -f "$mesh/restart-subscription.sql" >/dev/null \\
      || log "restarting $sub failed"
  done
}

# Providers that lost the slot this group streams from (this group was away longer than their max_slot_wal_keep_size):
# for each subscription whose apply worker is not running, the provider's leader is asked at every check (a streaming
# subscription has its slot); a lost one is recorded in the database and its subscription disabled
# (resync-record.sql: it must not resume from a slot made afresh, which would skip the rows committed meanwhile), logged
# once, and listed in the status as resync-needed=<group> until a re-sync removes the record. Unreachable: unknown, asked
# again at the next check.
check_lost_slots() {
  [ -f "$mesh/resync.sql" ] || return 0
  local out kind grp sub slot dsn wal recorded now='' slots=''
  out=$(psql_in "$DPG_DATABASE" -tA -F $'\\t' -v ON_ERROR_STOP=1 -f "$mesh/resync.sql" 2>/dev/null) || return 0
  while IFS=$'\\t' read -r kind grp sub slot dsn; do
    case "$kind" in
      recorded) now+="$grp"$'\\n'; slots+="$slot"$'\\n' ;;
      check)
        wal=$(psql_remote_bounded "$dsn" -tA \\
          -v slot="$slot" <<<"SELECT wal_status FROM pg_replication_slots WHERE slot_name = :'slot'" 2>/dev/null) || continue
        [ "$wal" = lost ] || continue
        recorded=$(psql_in "$DPG_DATABASE" -tA -v ON_ERROR_STOP=1 -v provider="$grp" -v sub="$sub" -v slot="$slot" \\
          -f "$mesh/resync-record.sql" 2>&1) || { log "node group $grp lost slot $slot; recording it failed: $(tail -n 1 <<<"$recorded")"; continue; }
        log "node group $grp lost slot $slot (wal_status lost: this group was away longer than $grp's max_slot_wal_keep_size):" \\
          "rows $grp committed since $(grep -o 'recorded .*' <<<"$recorded" | cut -d' ' -f2) are missing here and can no longer be streamed;" \\
          "subscription $sub disabled; re-sync needed (status: resync-needed=$grp)"
        now+="$grp"$'\\n'; slots+="$slot"$'\\n' ;;
    esac
  done <<<"$out"
  resync_slots=$slots
  now=$(printf '%s' "$now" | sort -u)
  if [ "$now" != "$resync_needed" ]; then
    [ -z "$now" ] && log "no re-sync needed any more (was: $(tr '\\n' ' ' <<<"$resync_needed"))"
    resync_needed=$now
    [ \${#last_status[@]} -eq 3 ] && status "\${last_status[@]}"
  fi
}

# The re-sync (join.ts): once a lost slot has been recorded for ${RESYNC_SETTLE_SECONDS} s, resync-prepare.sql drops this group's
# subscriptions and its join record; apply_mesh's join.sql then copies this group's rows anew from its source (the
# copied tables locked against writes meanwhile, readers go on) and deletes the records, and the subscriptions are made
# as usual. Where the re-sync cannot be automatic (no such file, or both directions lost changes) the status says so.
resync_group() {
  [ -n "$resync_needed" ] || { resync_problem=''; return 0; }
  local out why
  if [ ! -f "$mesh/resync-prepare.sql" ]; then
    why="re-sync needed from $(tr '\\n' ' ' <<<"$resync_needed")is not automatic for this group's engine and conflict policy: re-sync by hand (README: Re-sync)"
    [ "$resync_problem" = "$why" ] || log "$why"
    resync_problem=$why; return 0
  fi
  out=$(psql_in "$DPG_DATABASE" -tA -f "$mesh/resync-prepare.sql" 2>&1) || { log "re-sync: preparing failed: $(tail -n 1 <<<"$out")"; return 0; }
  if [ "\${out%% *}" = due ]; then
    # Every provider must answer first: from the drop of the subscriptions until the join, the group receives nothing.
    local dsn silent=''
    while IFS= read -r dsn; do
      dsn=\${dsn#due }
      psql_remote_bounded "$dsn" -tA -c 'SELECT 1' >/dev/null 2>&1 \\
        || silent+="$(sed -n 's/.*host=\\([^ ]*\\).*/\\1/p' <<<"$dsn") "
    done <<<"$out"
    if [ -n "$silent" ]; then
      [ "$resync_waiting" = "$silent" ] || log "re-sync waits: the provider(s) at $silent do not answer"
      resync_waiting=$silent; return 0
    fi
    resync_waiting=''
    out=$(psql_in "$DPG_DATABASE" -tA -v go=1 -f "$mesh/resync-prepare.sql" 2>&1) || { log "re-sync: preparing failed: $(tail -n 1 <<<"$out")"; return 0; }
  fi
  case "$out" in
    prepared*)
      log "re-sync from $(tr '\\n' ' ' <<<"$resync_needed")started: this group's subscriptions and join record dropped; join.sql copies its rows anew"
      resync_problem=''; next_apply=$SECONDS ;;
    decision*)
      why="re-sync \${out#decision: }"
      [ "$resync_problem" = "$why" ] || log "$why"
      resync_problem=$why ;;
  esac
}

keep_dcs() {
  local out
  if out=$(${FILES.meshSync} dcs 2>&1); then
    if [ -n "$out" ]; then log "$out"; fi
  else
    log "$out (retrying in 10 s)"; touch "$dcs_failed"
  fi
}
dcs_running() { [ -n "$dcs_pid" ] && kill -0 "$dcs_pid" 2>/dev/null; }

# The anti-entropy check (as postgres, peers through the mesh .pgpass): its result in the status file, a log line
# per finding. In the background: it reads every replicated table here and at each peer.
anti_entropy_status() {
  { printf '%s\n' "$1"; printf 'updated=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } > ${FILES.antiEntropyStatus}.tmp \
    && mv -f ${FILES.antiEntropyStatus}.tmp ${FILES.antiEntropyStatus}
  write_mesh_metrics
}
anti_entropy() {
  local out
  if ! out=$(as_postgres env PGPASSFILE=${FILES.meshPgpass} ${FILES.antiEntropy} "$DPG_PG_BIN/psql" \
      "host=${FILES.socketDir} port=$DPG_PG_PORT dbname=$DPG_DATABASE" "$mesh/anti-entropy.sql" 2>&1); then
    log "anti-entropy: not run: $(tail -n 1 <<<"$out")"; return
  fi
  grep '^finding=' <<<"$out" | while IFS= read -r line; do log "anti-entropy: divergence: \${line#finding=}"; done
  anti_entropy_status "$out"
  log "anti-entropy: $(grep '^state=' <<<"$out" | cut -d= -f2) ($(grep '^compared=' <<<"$out" | cut -d= -f2) table and group pairs compared)"
}
anti_entropy_running() { [ -n "$anti_entropy_pid" ] && kill -0 "$anti_entropy_pid" 2>/dev/null; }
anti_entropy_pid=''
resync_needed=''
resync_problem=''
resync_waiting=''
resync_slots=''
last_status=()
next_anti_entropy=0
dcs_pid=''
dcs_failed=${FILES.runDir}/dcs-failed
rm -f "$dcs_failed"

# DPG_MESH=off: a restored group (restoreFrom); only Patroni's part of the mesh document (pg_hba, slots) is kept.
mesh_on=1; [ "\${DPG_MESH:-on}" = off ] && mesh_on=0
next_apply=0
next_restart_check=0
next_down_check=0
next_plugin_check=0
backoff=2
was_primary=0
reported_standby=0
standby_slots=''
next_sync=0
next_dcs=0
while true; do
  # Every member follows its group's mesh document (a standby may be promoted next); a new generation is applied now.
  if [ "$SECONDS" -ge "$next_sync" ]; then
    if synced=$(${FILES.meshSync} 2>&1); then
      next_sync=$((SECONDS + ${MESH_SYNC_SECONDS}))
      if [ -n "$synced" ]; then log "$synced"; next_apply=$SECONDS; next_dcs=$SECONDS; fi
    else
      log "$synced (retrying in 10 s)"; next_sync=$((SECONDS + 10))
    fi
  fi
  if [ -n "$DPG_OUTPUT_PLUGIN" ] && [ "$SECONDS" -ge "$next_plugin_check" ]; then
    if allow_output_plugin; then next_plugin_check=$((SECONDS + 60)); fi
  fi
  if is_primary; then
    # Patroni's dynamic configuration follows the document (pg_hba, permanent slots): on taking the lead, on a new
    # generation, and every ${MESH_SYNC_SECONDS} s (one patronictl read; it writes only what differs). In the
    # background: patronictl waits up to 20 s for a DCS that does not answer, and this loop must not.
    if [ -e "$dcs_failed" ] && ! dcs_running; then rm -f "$dcs_failed"; next_dcs=$((SECONDS + 10)); fi
    if { [ "$was_primary" = 0 ] || [ "$SECONDS" -ge "$next_dcs" ]; } && ! dcs_running; then
      next_dcs=$((SECONDS + ${MESH_SYNC_SECONDS}))
      keep_dcs & dcs_pid=$!
    fi
    if [ "$mesh_on" = 0 ]; then
      # A restored group (restoreFrom) stands apart from the mesh: its data holds its source's subscriptions and
      # slots, and the mesh functions (setup, subscriptions, resume slots, anti-entropy) would act on the live groups.
      if [ "$was_primary" = 0 ]; then status standalone 0 ''; anti_entropy_status 'state=standalone'; fi
      was_primary=1; reported_standby=0; sleep ${KEEPER_TICK_SECONDS}; continue
    fi
    if [ "$was_primary" = 0 ] || [ -e "$marker" ] || [ "$SECONDS" -ge "$next_apply" ]; then
      rm -f "$marker"
      # Incomplete while a provider group is not up yet: try again soon, backing off to ${MESH_RETRY_MAX_SECONDS} s, so that
      # each subscription is made moments after its provider answers.
      if apply_mesh; then
        next_apply=$((SECONDS + ${MESH_REAPPLY_SECONDS})); backoff=2
      else
        next_apply=$((SECONDS + backoff)); backoff=$((backoff * 2 > ${MESH_RETRY_MAX_SECONDS} ? ${MESH_RETRY_MAX_SECONDS} : backoff * 2))
      fi
    fi
    # The anti-entropy check: a minute after taking the lead, then every DPG_ANTI_ENTROPY_SECONDS (0: not again).
    if [ "$was_primary" = 0 ]; then next_anti_entropy=$((SECONDS + ${ANTI_ENTROPY_AFTER_LEADER_CHANGE_SECONDS})); fi
    # Backups: on taking the lead (the group's first boot too), the stanza is created if need be and pgbackrest check
    # shows WAL reaching the repository; in the background (an unreachable object store takes minutes to fail), never
    # fatal: the result is in ${FILES.backupStatus}.
    if [ "$was_primary" = 0 ] && [ -x ${FILES.backup} ]; then
      { ${FILES.backup} check 2>&1 | tail -n 1 | sed 's/^/mesh-keeper: /'; } &
    fi
    if [ "$next_anti_entropy" -gt 0 ] && [ "$SECONDS" -ge "$next_anti_entropy" ] && [ -f "$mesh/anti-entropy.sql" ] && ! anti_entropy_running; then
      anti_entropy & anti_entropy_pid=$!
      next_anti_entropy=$(( \${DPG_ANTI_ENTROPY_SECONDS:-0} > 0 ? SECONDS + DPG_ANTI_ENTROPY_SECONDS : 0 ))
    fi
    sync_standby_slots
    failover_slots
    if [ "$SECONDS" -ge "$next_down_check" ]; then
      restart_down_subscriptions
      next_down_check=$((SECONDS + ${DOWN_CHECK_SECONDS}))
    fi
    if [ "$SECONDS" -ge "$next_restart_check" ]; then
      advance_resume_slots
      unpause_subscriptions
      check_lost_slots
      resync_group
      # Something went missing since the last apply (a declared table created since, a dropped subscription): apply now.
      if [ "$(psql_in "$DPG_DATABASE" -tA -f "$mesh/verify.sql" 2>/dev/null)" != 0 ]; then next_apply=$SECONDS; fi
      next_restart_check=$((SECONDS + ${KEEPER_INTERVAL_SECONDS}))
    fi
    was_primary=1
    reported_standby=0
  else
    # Only the leader applies the mesh: say so once, so a status left from its time as leader is not taken as current.
    if [ "$was_primary" = 1 ] || [ "$reported_standby" = 0 ]; then
      resync_needed=''; resync_slots=''; status not-leader 0 ''; anti_entropy_status 'state=not-leader'; reported_standby=1
    fi
    was_primary=0
  fi
  sleep ${KEEPER_TICK_SECONDS}
done
`;
}

/** Allows the engine's output plugin where the server has `output_plugin_libraries` (15.19+, 16.15+, 17.11+, 18.6+). */
export function allowOutputPluginSql(): string {
  return `-- Adds the output plugin named by :'plugin' to output_plugin_libraries, keeping what is there. Servers that
-- do not have the setting (older minor releases reject the name) return no row and change nothing.
-- ALTER SYSTEM cannot run in a transaction block, so the statement is generated and run on its own; it works on standbys too.
SELECT format('ALTER SYSTEM SET output_plugin_libraries = %s', (
    SELECT string_agg(quote_ident(item), ', ' ORDER BY position) FROM (
      SELECT btrim(entry) AS item, position FROM unnest(string_to_array(s.setting, ',')) WITH ORDINALITY AS e(entry, position)
      WHERE btrim(entry) <> ''
      UNION ALL SELECT :'plugin', 1000000) AS items))
  FROM pg_settings s
  WHERE s.name = 'output_plugin_libraries'
    AND NOT :'plugin' = ANY (SELECT btrim(entry) FROM unnest(string_to_array(s.setting, ',')) AS entry)
\\gexec
-- (pg_file_settings.applied says whether a value can be applied, not whether it was: compare with the live one.)
SELECT pg_reload_conf() FROM (SELECT setting FROM pg_file_settings WHERE name = 'output_plugin_libraries' ORDER BY seqno DESC LIMIT 1) f
  WHERE f.setting <> current_setting('output_plugin_libraries', true);
`;
}

export function meshKeeperUnit(): string {
  return `[Unit]
Description=distributed-postgres mesh keeper (replication mesh setup and subscription watchdog)
After=patroni.service

[Service]
Type=simple
ExecStart=${FILES.meshKeeper}
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target
`;
}

/** Patroni's post_bootstrap: once, on the member that initialised the group's cluster, before any replica clones it. */
export function postBootstrapScript(): string {
  return `#!/bin/bash
# Patroni post_bootstrap (runs as postgres): allows the engine's output plugin before replicas clone (they copy
# postgresql.auto.conf) and creates the application database. Patroni created the superuser, replication and
# rewind roles; mesh-keeper creates the mesh role and the replication node.
set -euo pipefail
. ${FILES.memberEnv}
psql_postgres() { "$DPG_PG_BIN/psql" -X -q -h ${FILES.socketDir} -p "$DPG_PG_PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }
if [ -n "$DPG_OUTPUT_PLUGIN" ]; then
  psql_postgres -v plugin="$DPG_OUTPUT_PLUGIN" -f ${FILES.meshDir}/allow-output-plugin.sql >/dev/null
fi
psql_postgres -v db="$DPG_DATABASE" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \\gexec
SQL
`;
}

/** Patroni's on_role_change callback (runs as postgres): asks mesh-keeper to re-apply the mesh now. */
export function onRoleChangeScript(): string {
  return `#!/bin/sh
# Patroni on_role_change callback: $1 = action, $2 = new role, $3 = scope. Asks mesh-keeper to re-apply the mesh now.
touch ${FILES.runDir}/role-changed 2>/dev/null || true
`;
}

/**
 * Patroni's pre_promote (runs as postgres on the member about to be promoted, before it accepts writes and before its
 * apply workers start): for each subscription whose provider slot has confirmed more than this member's replication
 * origin holds (the old leader confirmed rows this member never received), the slot is replaced by a copy of its
 * resume slot, so the rows in between are sent again. Never fails the promotion: a provider it cannot reach is logged
 * and left (the anti-entropy check reports what that leaves).
 */
/**
 * How long pre-promote keeps trying to set a subscriber's origin back: longer than an apply worker's connect to its
 * provider's host list with one host dead (connect_timeout 5 s per host, 3 hosts), which holds the origin throughout.
 */
export const ORIGIN_REWIND_SECONDS = 40;

export function prePromoteScript(): string {
  return `#!/bin/bash
# Patroni pre_promote: rewinds provider slots that moved past what this member holds (see mesh-keeper's resume slots).
set -uo pipefail
. ${FILES.memberEnv}
mesh=${FILES.meshDir}
[ -f "$mesh/resume-positions.sql" ] || exit 0
export PGPASSFILE=${FILES.meshPgpass}
log() { echo "pre-promote: $*" >&2; }
local_psql() { "$DPG_PG_BIN/psql" -X -q -h ${FILES.socketDir} -p "$DPG_PG_PORT" -d "$DPG_DATABASE" -tA "$@"; }
# As a provider, first: subscriptions of other groups to this one are disabled now, so that their apply workers, which
# may sit in a connect to the dead old leader for seconds, have let go of their origins by the time they are set back.
peers=$(local_psql -f "$mesh/resume-peers.sql" 2>/dev/null)
node=$(echo "$peers" | head -n 1)
subscribers() { echo "$peers" | tail -n +2; }
remote() { local dsn=$1; shift; timeout 15 "$DPG_PG_BIN/psql" -X -q "$dsn" -tA -v provider="$node" "$@" -f "$mesh/resume-rewind-origin.sql"; }
for dsn in $(subscribers | tr ' ' '|'); do
  remote "$(echo "$dsn" | tr '|' ' ')" -v lsn=0/0 -v pid=0 -v only_enable=false -v only_disable=true >/dev/null 2>&1 || true
done
# Replay what this member received first: its origin positions come from the replayed commits.
for _ in $(seq 1 50); do
  [ "$(local_psql -c "SELECT coalesce(pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn(), true)" 2>/dev/null)" = t ] && break
  sleep 0.2
done
record() { log "$1"; echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $1" >> ${FILES.repairsLog}; }
# As a subscriber: provider slots that confirmed more than this member holds are replaced by their resume slot.
local_psql -F $'\\t' -f "$mesh/resume-positions.sql" 2>/dev/null | while IFS=$'\\t' read -r slot resume dsn origin; do
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    verdict=$(timeout 10 "$DPG_PG_BIN/psql" -X -q "$dsn" -tA -F ' ' -v slot="$slot" -v resume="$resume" -v origin="$origin" \\
      -f "$mesh/resume-inspect.sql" 2>/dev/null) || { log "$slot: provider not reachable; not checked"; break; }
    case "$verdict" in
      rewind*)
        if timeout 10 "$DPG_PG_BIN/psql" -X -q "$dsn" -tA -v ON_ERROR_STOP=1 -v slot="$slot" -v resume="$resume" \\
            -f "$mesh/resume-rewind.sql" >/dev/null 2>&1; then
          record "$slot: provider slot confirmed $(echo "$verdict" | cut -d' ' -f2), this member holds $origin: recreated from $resume at $(echo "$verdict" | cut -d' ' -f3)"
          break
        fi
        sleep 0.3 ;;
      resume-slot-ahead*|no-resume-slot*)
        record "$slot: cannot repair ($verdict; this member holds $origin)"
        break ;;
      *) break ;;
    esac
  done
done
# As a provider, last: this member's WAL ends here, where its new timeline will start. A subscriber group whose origin is
# past it applied commits this member never received (the old leader sent them before its standbys had them); set
# back, it does not skip this member's next commits as already applied. Each attempt ends the process the previous one
# found holding the origin; the subscription is enabled again in any case. An apply worker that started before the
# subscription was disabled holds the origin until its connect gives up, and ending it does not interrupt a connect:
# with one host of its provider's list dead, that is connect_timeout per host (measured: 10 s, from 1 s after the
# disable; six attempts over 9 s lost 15-17 rows in CI twice). So the attempts go on for up to ${ORIGIN_REWIND_SECONDS} s.
end=$(local_psql -c "SELECT pg_last_wal_replay_lsn()" 2>/dev/null)
for dsn in $(subscribers | tr ' ' '|'); do
  dsn=$(echo "$dsn" | tr '|' ' ')
  at=$(echo "$dsn" | sed 's/.*host=\\([^ ]*\\).*/\\1/')
  pid=0
  started=$(date +%s); deadline=$(( started + ${ORIGIN_REWIND_SECONDS} )); attempts=0
  while :; do
    [ -n "$end" ] && [ -n "$node" ] || break
    attempts=$(( attempts + 1 ))
    out=$(remote "$dsn" -v lsn="$end" -v pid="$pid" -v only_enable=false -v only_disable=false 2>&1) \\
      || { log "subscriber at $at not reachable; its origin for $node not checked"; break; }
    case "$out" in
      *rewound*) record "origin for $node at $at: set back from $(echo "$out" | awk '/rewound/ {print $2}') to $end (promoted provider's end of WAL; attempt $attempts, $(( $(date +%s) - started )) s)"; break ;;
      *ahead*)
        pid=$(echo "$out" | sed -n 's/.*already active for PID \\([0-9]*\\).*/\\1/p' | tail -n 1); [ -n "$pid" ] || pid=0
        if [ "$(date +%s)" -ge "$deadline" ]; then
          record "origin for $node at $at: past $end, could not be set back in ${ORIGIN_REWIND_SECONDS} s, $attempts attempts ($(echo "$out" | grep ERROR | tail -n 1))"
          break
        fi
        sleep 1 ;;
      *) break ;;
    esac
  done
  remote "$dsn" -v lsn=0/0 -v pid=0 -v only_enable=true -v only_disable=false >/dev/null 2>&1 || true
done
exit 0
`;
}
