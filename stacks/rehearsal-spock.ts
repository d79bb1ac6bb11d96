/**
 * The rehearsal fleet for Spock on a golden image: Debian 12 machines whose image already holds PostgreSQL 15 built
 * with Spock 5's patches, Spock, snowflake, Patroni and etcd (`PackageSource.IMAGE`: cloud-init installs nothing).
 * The image is what a Packer build publishes in the account as `dpg-spock-pg15-<timestamp>` (found with an AMI lookup
 * owned by `self`), with the server binaries in the Debian layout (`/usr/lib/postgresql/15/bin`, the default binDir).
 *
 * 2 AWS node groups x 3 members (6 database machines, co-located etcd), fast Patroni timings, and the Spock features
 * the rehearsal exercises: a delta-apply column (`public.accounts.balance`, NOT NULL in the application's schema),
 * snowflake ids (Spock's default), and an `eu` geoshard held by group `b` alone (its `public.entries_eu` rows never
 * reach group `a`). Synthesized as `cdktf.out/stacks/rehearsal-spock`.
 */
import {
  Cloud, DistributedPostgresProps, EtcdPlacement, ImageFlavour, MachineImage, PackageSource, ReplicationEngine, TimingProfile, TlsCa,
} from '../lib';

/** The AMI name a Packer build of the Spock golden image publishes (`dpg-spock-pg15-<timestamp>`). */
export const SPOCK_GOLDEN_IMAGE_NAME = 'dpg-spock-pg15-*';

export function rehearsalSpockFleet(): DistributedPostgresProps {
  const machineImage = MachineImage.awsAmiLookup('self', SPOCK_GOLDEN_IMAGE_NAME);
  return {
    name: 'rh-spock',
    nodeGroups: [
      { name: 'a', cloud: Cloud.AWS, region: 'us-east-1', image: ImageFlavour.DEBIAN_12, machineImage, members: 3 },
      { name: 'b', cloud: Cloud.AWS, region: 'us-east-2', image: ImageFlavour.DEBIAN_12, machineImage, members: 3 },
    ],
    etcd: { size: 3, placement: EtcdPlacement.CO_LOCATED },
    postgres: { packageSource: PackageSource.IMAGE, version: 15 },
    replication: {
      engine: ReplicationEngine.SPOCK,
      globalTables: ['public.accounts', 'public.items'],
      deltaApplyColumns: [{ table: 'public.accounts', column: 'balance' }],
      snowflakeIds: true,
      // The rehearsal's writer table stamps each row's arrival in each group (its lag measure): not compared.
      antiEntropyIgnoredColumns: ['public.items.arrived_at'],
    },
    geoshards: [{
      name: 'eu',
      nodeGroups: ['b'],
      tables: [{ table: 'public.entries', partition: 'public.entries_eu', values: ['eu'] }],
    }],
    ha: { timingProfile: TimingProfile.FAST },
    // The rehearsal brings its own CA (its stand-in secret store), as an operator would with bin/fill-tls-ca.
    secrets: { tlsCa: TlsCa.OPERATOR_FILLED },
  };
}
