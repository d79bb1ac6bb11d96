/**
 * The rehearsal fleet for native logical replication on Debian 13's own packages (PostgreSQL 17, Patroni 4.0.7, etcd
 * 3.5.16): the `rehearsal` stack's shape (2 AWS node groups x 3 members, co-located etcd, fast Patroni timings) with
 * ReplicationEngine.NATIVE. Synthesized as `cdktf.out/stacks/rehearsal-native`.
 */
import {
  Cloud, DistributedPostgresProps, EtcdPlacement, ImageFlavour, PackageSource, ReplicationEngine, TimingProfile, TlsCa,
} from '../lib';

export function rehearsalNativeFleet(): DistributedPostgresProps {
  return {
    name: 'rh-native',
    nodeGroups: [
      { name: 'a', cloud: Cloud.AWS, region: 'us-east-1', image: ImageFlavour.DEBIAN_13, members: 3 },
      { name: 'b', cloud: Cloud.AWS, region: 'us-east-2', image: ImageFlavour.DEBIAN_13, members: 3 },
    ],
    etcd: { size: 3, placement: EtcdPlacement.CO_LOCATED },
    postgres: { packageSource: PackageSource.DISTRO, version: 17 },
    replication: {
      engine: ReplicationEngine.NATIVE,
      globalTables: ['public.items'],
      // The rehearsal's writer table stamps each row's arrival in each group (its lag measure): not compared.
      antiEntropyIgnoredColumns: ['public.items.arrived_at'],
    },
    ha: { timingProfile: TimingProfile.FAST },
    // The rehearsal brings its own CA (its stand-in secret store), as an operator would with bin/fill-tls-ca.
    secrets: { tlsCa: TlsCa.OPERATOR_FILLED },
  };
}
