/**
 * The one entry point: runcmd calls the bootstrap script, which configures and starts what this machine runs,
 * idempotently (safe to run again), logging each step. Machine facts come from member.env; the scripts
 * themselves are the same on every machine of a role, which keeps them readable in review.
 */
import { Machine } from './context';
import { etcdDataDir, etcdEndpoints } from './etcd';
import { replicationEngine } from './mesh';
import { postgresBinDir } from './packages';
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
      DPG_PG_BIN: postgresBinDir(topology.postgres.version),
      DPG_PG_DATA: postgresDataDir(topology),
      DPG_PG_PORT: topology.postgres.port,
      DPG_DATABASE: topology.postgres.database,
      DPG_ENGINE: topology.replication.engine,
      // pgoutput is always allowed; only the extensions' plugins need adding to output_plugin_libraries.
      DPG_OUTPUT_PLUGIN: engine.outputPlugin === 'pgoutput' ? '' : engine.outputPlugin,
      DPG_MESH_USER: topology.postgres.meshUser,
      DPG_MESH_ROLE_ATTRIBUTES: engine.meshRoleAttributes.join(' '),
      DPG_SECRET_MESH: topology.secrets.meshPassword,
    });
  }
  return `# This machine's facts, sourced by the distributed-postgres scripts. Secret names only, never values.\n${shellAssignments(vars)}`;
}

/** etcdctl with this machine's client certificate (a command, so it also works as the argument list of wait_for). */
export const ETCDCTL = `env ETCDCTL_API=3 etcdctl --cacert=${FILES.caCert} --cert=${FILES.memberCert} --key=${FILES.memberKey} --dial-timeout=2s --command-timeout=5s`;

/**
 * How this etcd member joins: `new` while the quorum forms for the first time (all members of
 * initial-cluster start together), `existing` when the quorum already runs without this member's data
 * (a replaced machine): its stale entry is removed and it is added again.
 */
export function etcdJoinScript(): string {
  return `#!/bin/bash
# etcd-join: decides initial-cluster-state for this member (new while the quorum forms; existing when it runs).
set -euo pipefail
. ${FILES.memberEnv}
if [ -d "$DPG_ETCD_DATA_DIR/member" ]; then
  echo "etcd data present in $DPG_ETCD_DATA_DIR: already a member"
  exit 0
fi
ctl() { ${ETCDCTL} "$@"; }
healthy=''
for endpoint in $(echo "$DPG_ETCD_ENDPOINTS" | tr ',' ' '); do
  [ "$endpoint" = "$DPG_ETCD_CLIENT_URL" ] && continue
  # Health needs a quorum: a lone member that is still forming the cluster is not healthy.
  if ctl --endpoints="$endpoint" --command-timeout=3s endpoint health >/dev/null 2>&1; then healthy=$endpoint; break; fi
done
if [ -z "$healthy" ]; then
  echo "no running quorum: joining the initial formation (initial-cluster-state new)"
  exit 0
fi
line=$(ctl --endpoints="$healthy" member list | grep -F ", $DPG_ETCD_PEER_URL," || true)
id=$(echo "$line" | cut -d, -f1 | tr -d ' ')
name=$(echo "$line" | cut -d, -f3 | tr -d ' ')
if [ -n "$line" ] && [ -n "$name" ]; then
  echo "the quorum knows $name ($id) with data this machine no longer has: removing it to join again"
  ctl --endpoints="$healthy" member remove "$id"
  line=''
fi
if [ -z "$line" ]; then
  ctl --endpoints="$healthy" member add "$DPG_ETCD_NAME" --peer-urls="$DPG_ETCD_PEER_URL"
fi
sed -i 's/^initial-cluster-state: new$/initial-cluster-state: existing/' ${FILES.etcdConfig}
echo "joining the running quorum via $healthy (initial-cluster-state existing)"
`;
}

export function bootstrapScript(machine: Machine): string {
  const { topology } = machine;
  return `#!/bin/bash
# distributed-postgres bootstrap: makes this machine its role in fleet '${oneLine(topology.fleetName)}'. Run once by
# cloud-init's runcmd; idempotent (safe to run again); each step is logged to ${FILES.bootstrapLog}.
set -euo pipefail
. ${FILES.memberEnv}
exec > >(tee -a ${FILES.bootstrapLog}) 2>&1
log() { printf '%s %s: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$DPG_MACHINE" "$*"; }
step() { log "step: $*"; }
trap 'log "FAILED (exit $?) at line $LINENO"' ERR
# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 3 s.
wait_for() {
  local limit=$1 what=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge "$limit" ]; then log "$what: not yet after $limit s"; return 1; fi
    sleep 3
  done
  log "$what: ok after $((SECONDS - start)) s"
}

log "bootstrap begins: $DPG_ROLE machine of node group $DPG_GROUP ($DPG_CLOUD $DPG_REGION $DPG_ZONE, $DPG_PRIVATE_IP)"
install -d -m 0755 ${FILES.root} ${FILES.stateDir} ${FILES.runDir}

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
  step "Patroni configuration and secrets"
  install -d -o postgres -g postgres -m 0700 "$(dirname "$DPG_PG_DATA")"
  install -d -o postgres -g postgres -m 2775 ${FILES.socketDir}
  chown postgres:postgres ${FILES.runDir}
  ${FILES.materializeSecrets} yaml ${FILES.patroniTemplate} ${FILES.patroniConfig} postgres
  ${FILES.materializeSecrets} pgpass ${FILES.meshPgpass} postgres "$DPG_MESH_USER" "$DPG_SECRET_MESH"

  step "Patroni and the mesh keeper"
  systemctl daemon-reload 2>/dev/null || true
  systemctl enable patroni.service 2>/dev/null || true
  systemctl start patroni.service
  systemctl enable distributed-postgres-mesh.service 2>/dev/null || true
  systemctl start distributed-postgres-mesh.service
  wait_for 900 "PostgreSQL accepting connections" runuser -u postgres -- "$DPG_PG_BIN/pg_isready" -q -h ${FILES.socketDir} -p "$DPG_PG_PORT" \\
    || log "continuing: Patroni keeps trying (see journalctl -u patroni)"
fi

log "bootstrap complete"
`;
}
