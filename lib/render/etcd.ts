/**
 * One member of a node group's etcd quorum: a YAML config file (etcd 3.4's `--config-file`) with client and
 * peer TLS, client-certificate auth on both, pre-vote, and the group's token and timings; and a unit that
 * replaces the distro's `etcd.service` (which would otherwise start a one-member cluster on install).
 */
import { EtcdMember, NodeGroup } from '../topology/topology';
import { FILES } from './paths';
import { oneLine } from './quote';

/** Data directory of a quorum member (the distro's own one-member cluster lives in /var/lib/etcd/default). */
export function etcdDataDir(group: NodeGroup): string {
  return `${FILES.etcdDataRoot}/${group.etcd.clusterToken}`;
}

export function etcdConfig(group: NodeGroup, member: EtcdMember): Record<string, unknown> {
  const tls = (clientCertAuth: boolean) => ({
    'cert-file': FILES.memberCert,
    'key-file': FILES.etcdKey,
    'client-cert-auth': clientCertAuth,
    'trusted-ca-file': FILES.caCert,
  });
  return {
    name: member.name,
    'data-dir': etcdDataDir(group),
    'listen-peer-urls': member.peerUrl,
    'listen-client-urls': member.clientUrl,
    'initial-advertise-peer-urls': member.peerUrl,
    'advertise-client-urls': member.clientUrl,
    'initial-cluster': group.etcd.initialCluster,
    'initial-cluster-token': group.etcd.clusterToken,
    // The bootstrap switches this to `existing` when it (re)joins a quorum that already runs.
    'initial-cluster-state': 'new',
    'heartbeat-interval': group.etcd.heartbeatIntervalMs,
    'election-timeout': group.etcd.electionTimeoutMs,
    // A healed, isolated member must not disrupt the quorum with a higher term (measured: without it a stale leader re-promoted itself).
    'pre-vote': true,
    // Patroni's etcd3 client talks to etcd through the gRPC gateway (/v3/...). etcd 3.4 enables it by default only
    // for command-line flags: with a config file it is off unless set (etcd-io/etcd#12093; found by the rehearsal:
    // Patroni looped on "404 page not found").
    'enable-grpc-gateway': true,
    'auto-compaction-mode': 'periodic',
    'auto-compaction-retention': '1h',
    'client-transport-security': tls(true),
    'peer-transport-security': tls(true),
    logger: 'zap',
    'log-outputs': ['stderr'],
  };
}

/** Client endpoints of the group's quorum, for etcdctl (`https://ip:2379,...`). */
export function etcdEndpoints(group: NodeGroup): string {
  return group.etcd.members.map((m) => m.clientUrl).join(',');
}

/**
 * Replaces the package's etcd.service (which the package enables, so it starts at every boot). The conditions keep it
 * from starting before the bootstrap issued TLS and etcd-join decided how this member joins: at a reboot in between,
 * it would start as the member the static configuration names, which a replaced machine no longer is.
 */
export function etcdUnit(group: NodeGroup): string {
  return `[Unit]
Description=etcd member of quorum ${oneLine(group.etcd.clusterToken)} (distributed-postgres)
Documentation=man:etcd
After=network-online.target
Wants=network-online.target
ConditionPathExists=${FILES.etcdKey}
ConditionPathExists=${FILES.etcdMemberDecided}

[Service]
Type=simple
User=etcd
ExecStart=/usr/bin/etcd --config-file ${FILES.etcdConfig}
Restart=always
RestartSec=2
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

