/**
 * The one entry point: runcmd enables and starts the bootstrap unit, whose script configures and starts what this
 * machine runs, idempotently (safe to run again), logging each step and recording it in a status file. The unit is
 * retried after a failure and runs again at every boot, so a machine that failed (a peer not up yet, a secret not
 * filled in yet) heals by itself once the cause goes away: cloud-init's runcmd runs once per instance. Machine facts come from member.env; the scripts
 * themselves are the same on every machine of a role, which keeps them readable in review.
 */
import { Topology } from '../topology/topology';
import { ARCHIVE_QUEUE_PERCENT } from './backup';
import { Machine } from './machine';
import { etcdDataDir, etcdEndpoints } from './etcd';
import { replicationEngine } from './mesh';
import { postgresBinDir } from './packages';
import { exporterListenVars, metricsBootstrapStep, metricsEnabled } from './metrics';
import { postgresDataDir } from './patroni';
import { FILES } from './paths';
import { oneLine, shellAssignments } from './quote';
import { subjectAltNames } from './tls';

/** Shell-sourceable facts about this machine (no secrets: secret names only). */
export function memberEnv(machine: Machine): string {
  const { topology, group } = machine;
  const vars: Record<string, string | number | boolean> = {
    DPG_FLEET: topology.fleetName,
    DPG_GROUP: group.name,
    DPG_CLOUD: group.cloud,
    DPG_REGION: group.region,
    DPG_ZONE: machine.zone,
    DPG_MACHINE: machine.name,
    DPG_ROLE: machine.role,
    DPG_PRIVATE_IP: machine.privateIp,
    DPG_FQDN: machine.fqdn,
    DPG_TLS_SANS: subjectAltNames(machine).join(','),
    DPG_SECRET_TLS_CA: topology.secrets.tlsCa,
    DPG_RUNS_POSTGRES: machine.role === 'postgres',
    DPG_RUNS_ETCD: machine.etcd !== undefined,
  };
  if (machine.etcd) {
    Object.assign(vars, {
      DPG_ETCD_NAME: machine.etcd.name,
      DPG_ETCD_PEER_URL: machine.etcd.peerUrl,
      DPG_ETCD_CLIENT_URL: machine.etcd.clientUrl,
      DPG_ETCD_DATA_DIR: etcdDataDir(group),
    });
  }
  vars.DPG_ETCD_ENDPOINTS = etcdEndpoints(group);
  if (machine.role === 'postgres') {
    const engine = replicationEngine(topology.replication.engine);
    Object.assign(vars, {
      DPG_PG_VERSION: topology.postgres.version,
      DPG_PG_BIN: postgresBinDir(topology),
      DPG_PG_DATA: postgresDataDir(topology),
      DPG_PG_PORT: topology.postgres.port,
      DPG_DATABASE: topology.postgres.database,
      DPG_ENGINE: topology.replication.engine,
      // pgoutput is always allowed; only the extensions' plugins need adding to output_plugin_libraries.
      DPG_OUTPUT_PLUGIN: engine.outputPlugin === 'pgoutput' ? '' : engine.outputPlugin,
      DPG_MESH_USER: topology.postgres.meshUser,
      DPG_MESH_ROLE_ATTRIBUTES: engine.meshRoleAttributes.join(' '),
      DPG_SECRET_MESH: topology.secrets.meshPassword,
      DPG_ANTI_ENTROPY_SECONDS: topology.replication.antiEntropyMinutes * 60,
    });
    // Metrics: the exporters' units read their listen address from here.
    if (metricsEnabled(topology)) Object.assign(vars, exporterListenVars(topology, machine.privateIp));
    // A restored group (restoreFrom) stands apart from the mesh: mesh-keeper keeps Patroni's part only.
    if (group.restore) vars.DPG_MESH = 'off';
  }
  return `# This machine's facts, sourced by the distributed-postgres scripts. Secret names only, never values.\n${shellAssignments(vars)}`;
}

/** etcdctl with this machine's client certificate (a command, so it also works as the argument list of wait_for). */
export const ETCDCTL = `env ETCDCTL_API=3 etcdctl --cacert=${FILES.caCert} --cert=${FILES.memberCert} --key=${FILES.memberKey} --dial-timeout=2s --command-timeout=5s`;

/**
 * How this etcd member joins its quorum. Machines of one deploy boot seconds to minutes apart, and a machine may be
 * replaced (new disk, same user-data), so the decision is read from what a running peer knows (`member list`; etcd
 * 3.4 serves it only once the peer has joined a quorum, and keeps serving it without one):
 * - no peer answers: the quorum is forming for the first time: `new`;
 * - our entry exists with a name but no client URLs: a static member of `initial-cluster` that never started (a late
 *   boot): `new` too (etcd lets a static member join late with the formation's state);
 * - our entry exists without a name: added by an earlier attempt of this script and not started yet: `existing`;
 * - our entry exists with client URLs: it ran before and its data is gone (a replaced machine): remove it, add it
 *   again, `existing`;
 * - no entry: add it, `existing`.
 * Membership changes need a healthy quorum, and etcd refuses a change for a few seconds after the previous one
 * ("unhealthy cluster"), so they are retried with back-off until a deadline; the bootstrap retries the whole script
 * after a failure.
 */
export function etcdJoinScript(): string {
  return `#!/bin/bash
# etcd-join: decides initial-cluster-state for this member from what a running peer knows (see the cases below).
set -euo pipefail
. ${FILES.memberEnv}
config=${FILES.etcdConfig}
# (No dollar-brace expansions: GCP's user-data is a Terraform string, where they would be interpolations.)
deadline=$((SECONDS + $(printenv DPG_ETCD_JOIN_TIMEOUT || echo 600)))
decided() { echo "initial-cluster-state $1 $(date -u +%Y-%m-%dT%H:%M:%SZ)" > ${FILES.etcdMemberDecided}; }
if [ -d "$DPG_ETCD_DATA_DIR/member" ]; then
  echo "etcd data present in $DPG_ETCD_DATA_DIR: already a member"
  [ -e ${FILES.etcdMemberDecided} ] || decided data-present
  exit 0
fi
ctl() { ${ETCDCTL} "$@"; }
# Records the decision last: etcd.service starts (also at a reboot) only once it is made.
state() {
  sed -i "s/^initial-cluster-state: .*$/initial-cluster-state: $1/" "$config"
  decided "$1"
  echo "$2 (initial-cluster-state $1)"
}
# retry WHAT COMMAND...: runs COMMAND until it succeeds, backing off 1, 2, 4 .. 15 s, until the deadline.
retry() {
  local what=$1 pause=1 out
  shift
  until out=$("$@" 2>&1); do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "$what: gave up: $out" >&2; return 1; fi
    echo "$what: $(echo "$out" | tail -n 1); retrying in $pause s"
    sleep "$pause"
    pause=$((pause * 2 > 15 ? 15 : pause * 2))
  done
  [ -n "$out" ] && echo "$out"
  return 0
}
# A change whose answer was lost (a timeout) may have been made: its retry then finds it done.
remove_member() {
  local out
  out=$(ctl --endpoints="$others" member remove "$1" 2>&1) || { echo "$out" | grep -q 'member not found' && echo "$1 is gone"; } || { echo "$out"; return 1; }
  echo "$out"
}
add_member() {
  local out
  out=$(ctl --endpoints="$others" member add "$DPG_ETCD_NAME" --peer-urls="$DPG_ETCD_PEER_URL" 2>&1) \\
    || { echo "$out" | grep -q 'Peer URLs already exists' && echo "$DPG_ETCD_PEER_URL is already added"; } || { echo "$out"; return 1; }
  echo "$out"
}
# The first peer that answers member list: "id, status, name, peer URLs, client URLs, is learner" per member.
others=$(echo "$DPG_ETCD_ENDPOINTS" | tr ',' '\\n' | { grep -vxF "$DPG_ETCD_CLIENT_URL" || true; } | paste -sd, -)
# Asked all at once: a peer that is not up costs its whole timeout (about 3 s), and at first formation none is up.
probes=$(mktemp -d)
trap 'rm -rf "$probes"' EXIT
n=0
for endpoint in $(echo "$others" | tr ',' ' '); do
  n=$((n + 1))
  echo "$endpoint" > "$probes/$n.endpoint"
  (ctl --endpoints="$endpoint" --command-timeout=3s member list > "$probes/$n.members" 2>/dev/null && touch "$probes/$n.ok") &
done
wait
peer=''
members=''
for i in $(seq 1 "$n"); do
  if [ -e "$probes/$i.ok" ]; then peer=$(cat "$probes/$i.endpoint"); members=$(cat "$probes/$i.members"); break; fi
done
if [ -z "$peer" ]; then
  state new "no peer has joined a quorum yet: forming it with the others"
  exit 0
fi
entry=$(echo "$members" | awk -F', ' -v url="$DPG_ETCD_PEER_URL" '$4 == url' | head -n 1)
id=$(echo "$entry" | awk -F', ' '{print $1}')
name=$(echo "$entry" | awk -F', ' '{print $3}')
clients=$(echo "$entry" | awk -F', ' '{print $5}')
if [ -n "$entry" ] && [ -n "$name" ] && [ -z "$clients" ]; then
  state new "$peer knows $name as a member of the initial cluster that never started: joining late"
  exit 0
fi
if [ -n "$entry" ] && [ -z "$name" ]; then
  state existing "$peer has this member added ($id) but not started: joining"
  exit 0
fi
if [ -n "$entry" ]; then
  echo "$peer knows $name ($id), which ran before, with data this machine does not have (a replaced machine): removing it"
  retry "member remove $id" remove_member "$id"
fi
retry "member add $DPG_ETCD_NAME" add_member
state existing "joining the running quorum as a new member"
`;
}

/** Pause before the unit runs a failed bootstrap again. */
export const BOOTSTRAP_RETRY_SECONDS = 15;

/**
 * Runs the bootstrap at every boot, and again 15 s after a failure, without a start limit. `Restart=on-failure` on a
 * oneshot needs systemd 245+ (Debian 12 has 252, Ubuntu 24.04 255); a oneshot's default start timeout (90 s) would
 * kill a bootstrap that waits for its peers, hence `infinity`.
 */
export function bootstrapUnit(): string {
  return `[Unit]
Description=distributed-postgres bootstrap (makes this machine its role; retried until it succeeds, runs at every boot)
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
Type=oneshot
ExecStartPre=${FILES.loadScripts}
ExecStart=${FILES.bootstrapScript}
Restart=on-failure
RestartSec=${BOOTSTRAP_RETRY_SECONDS}
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
`;
}

/** What runcmd does: hand the bootstrap to its unit (which also runs it at every later boot). */
export function bootstrapRuncmd(): string[][] {
  const unit = FILES.bootstrapUnit.split('/').pop()!;
  return [['systemctl', 'daemon-reload'], ['systemctl', 'enable', unit], ['systemctl', 'start', '--no-block', unit]];
}

export function bootstrapScript(topology: Topology): string {
  return `#!/bin/bash
# distributed-postgres bootstrap: makes this machine its role in fleet '${oneLine(topology.fleetName)}'. Run by its unit
# (at every boot, and again after a failure); idempotent; each step is logged to ${FILES.bootstrapLog} and the
# last one is recorded in ${FILES.bootstrapStatus} (state running|complete|failed, step, attempt, updated).
set -euo pipefail
. ${FILES.memberEnv}
exec > >(tee -a ${FILES.bootstrapLog}) 2>&1
install -d -m 0755 ${FILES.root} ${FILES.stateDir} ${FILES.runDir}
attempt=$(( $(cat ${FILES.stateDir}/bootstrap.attempts 2>/dev/null || echo 0) + 1 ))
echo "$attempt" > ${FILES.stateDir}/bootstrap.attempts
current_step=begin
log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$DPG_MACHINE" "$*"; }
status() {
  printf 'state=%s\nstep=%s\nattempt=%s\nupdated=%s\n' "$1" "$current_step" "$attempt" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    > ${FILES.bootstrapStatus}.tmp && mv -f ${FILES.bootstrapStatus}.tmp ${FILES.bootstrapStatus}
}
step() { current_step="$*"; log "step: $*"; status running; }
trap 'rc=$?; log "FAILED (exit $rc) at line $LINENO in step: $current_step (the unit retries in ${BOOTSTRAP_RETRY_SECONDS} s)"; status failed' ERR
# wait_for SECONDS WHAT COMMAND...: polls COMMAND, backing off 1, 2, 4 .. 10 s, until SECONDS have passed.
wait_for() {
  local limit=$1 what=$2 start=$SECONDS pause=1
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge "$limit" ]; then log "$what: not yet after $limit s"; return 1; fi
    sleep "$pause"
    pause=$((pause * 2 > 10 ? 10 : pause * 2))
  done
  log "$what: ok after $((SECONDS - start)) s"
}

log "bootstrap begins (attempt $attempt): $DPG_ROLE machine of node group $DPG_GROUP ($DPG_CLOUD $DPG_REGION $DPG_ZONE, $DPG_PRIVATE_IP)"
status running

if [ "$DPG_RUNS_POSTGRES" = 1 ]; then
  step "data disk at ${FILES.postgresHome}"
  ${FILES.mountDataDisk}
fi

step "neutralise the packages' defaults"
if [ "$DPG_RUNS_ETCD" = 1 ] && [ ! -d "$DPG_ETCD_DATA_DIR/member" ]; then
  # The quorum has not formed here yet, so any running etcd is the package's one-member cluster.
  systemctl stop etcd.service 2>/dev/null || true
  rm -rf ${FILES.etcdDataRoot}/default
fi
if [ "$DPG_RUNS_POSTGRES" = 1 ] && [ ! -e "$DPG_PG_DATA/PG_VERSION" ] && command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h 2>/dev/null | while read -r version cluster rest; do
    if [ "$cluster" = main ]; then
      log "dropping the package's default cluster $version/main"
      pg_dropcluster --stop "$version" main || log "could not drop $version/main; continuing (Patroni uses its own data directory)"
    fi
  done
fi

step "TLS certificate"
${FILES.issueCertificate}

if [ "$DPG_RUNS_ETCD" = 1 ]; then
  step "etcd member $DPG_ETCD_NAME"
  install -d -o etcd -g etcd -m 0700 ${FILES.etcdDataRoot}
  ${FILES.etcdJoin}
  systemctl daemon-reload 2>/dev/null || true
  systemctl enable etcd.service 2>/dev/null || true
  systemctl start etcd.service
  wait_for 900 "etcd quorum" ${ETCDCTL} --endpoints="$DPG_ETCD_CLIENT_URL" endpoint health \\
    || log "continuing: Patroni waits for the quorum by itself"
fi

if [ "$DPG_RUNS_POSTGRES" = 1 ]; then
  step "the mesh document"
  # Patroni's configuration takes pg_hba and the permanent slots from it (the group's first member bootstraps with them).
  wait_for 900 "the mesh document $DPG_GROUP" ${FILES.meshSync}

  step "Patroni configuration and secrets"
  install -d -o postgres -g postgres -m 0700 "$(dirname "$DPG_PG_DATA")"
  install -d -o postgres -g postgres -m 2775 ${FILES.socketDir}
  chown postgres:postgres ${FILES.runDir}
  ${FILES.materializeSecrets} yaml ${FILES.patroniTemplate} ${FILES.patroniConfig} postgres
  ${FILES.materializeSecrets} pgpass ${FILES.meshPgpass} postgres "$DPG_MESH_USER" "$DPG_SECRET_MESH"
  if [ -f ${FILES.pgbackrestConfig} ]; then
    step "pgBackRest configuration"
    # Postgres' archive_command and the backups run pgBackRest as postgres. The archive queue's bound follows the disk
    # this machine has (${ARCHIVE_QUEUE_PERCENT} %): beyond it pgBackRest drops WAL rather than let it fill the disk.
    install -d -o postgres -g postgres -m 0750 ${FILES.pgbackrestDir} ${FILES.pgbackrestIncludeDir}
    chown postgres:postgres ${FILES.pgbackrestConfig}
    chmod 0640 ${FILES.pgbackrestConfig}
    queue_mb=$(( $(df -B1M --output=size ${FILES.postgresHome} | tail -n 1) * ${ARCHIVE_QUEUE_PERCENT} / 100 ))
    printf '# Written by the bootstrap from the data disk (${ARCHIVE_QUEUE_PERCENT} %%).\n[global]\narchive-push-queue-max=%sMB\n' "$queue_mb" \
      > ${FILES.pgbackrestIncludeDir}/archive-queue.conf
    chown postgres:postgres ${FILES.pgbackrestIncludeDir}/archive-queue.conf
    chmod 0640 ${FILES.pgbackrestIncludeDir}/archive-queue.conf
  fi

  step "Patroni and the mesh keeper"
  systemctl daemon-reload 2>/dev/null || true
  systemctl enable patroni.service 2>/dev/null || true
  systemctl start patroni.service
  systemctl enable distributed-postgres-mesh.service 2>/dev/null || true
  systemctl start distributed-postgres-mesh.service
  wait_for 900 "PostgreSQL accepting connections" runuser -u postgres -- "$DPG_PG_BIN/pg_isready" -q -h ${FILES.socketDir} -p "$DPG_PG_PORT" \\
    || log "continuing: Patroni keeps trying (see journalctl -u patroni)"
${metricsEnabled(topology) ? metricsBootstrapStep(topology) : ''}  # Backups: every member's timers fire; the backup script acts on the group's leader only.
  for timer in /etc/systemd/system/distributed-postgres-backup-*.timer; do
    [ -e "$timer" ] || continue
    systemctl enable "$(basename "$timer")" 2>/dev/null || true
    systemctl start "$(basename "$timer")" 2>/dev/null || log "could not start $(basename "$timer") (no systemd here?)"
  done
fi

current_step=complete
status complete
log "bootstrap complete"
`;
}
