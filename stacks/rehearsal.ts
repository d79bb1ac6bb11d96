/**
 * The fleet the rehearsal boots on local test hosts: 2 AWS node groups x 3 members with co-located etcd, pglogical on
 * Debian 12's own packages, fast Patroni timings. The rehearsal reads this stack's synthesized JSON and takes every
 * machine's user-data from its `aws_instance` (the `Name` tag is the machine name).
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import {
  Cloud, DistributedPostgres, DistributedPostgresProps, EtcdPlacement, ImageFlavour, PackageSource, ReplicationEngine, TimingProfile, TlsCa,
} from '../lib';

/** The declaration (tests use it as `pglogicalFleet()`). */
export function rehearsalFleet(): DistributedPostgresProps {
  return {
    name: 'rehearse',
    nodeGroups: [
      { name: 'a', cloud: Cloud.AWS, region: 'us-east-1', image: ImageFlavour.DEBIAN_12, members: 3 },
      { name: 'b', cloud: Cloud.AWS, region: 'us-east-2', image: ImageFlavour.DEBIAN_12, members: 3 },
    ],
    etcd: { size: 3, placement: EtcdPlacement.CO_LOCATED },
    postgres: { packageSource: PackageSource.DISTRO },
    replication: {
      engine: ReplicationEngine.PGLOGICAL,
      globalTables: ['public.items'],
      // The rehearsal's writer table stamps each row's arrival in each group (its lag measure): not compared.
      antiEntropyIgnoredColumns: ['public.items.arrived_at'],
    },
    ha: { timingProfile: TimingProfile.FAST },
    // The rehearsal brings its own CA (its stand-in secret store), as an operator would with bin/fill-tls-ca.
    secrets: { tlsCa: TlsCa.OPERATOR_FILLED },
  };
}

/**
 * The next version of the rehearsal declaration: one more global table. What `cdktf deploy` of it changes is the node
 * groups' mesh documents and nothing of a machine; the rehearsal's `mesh-update` drill stores its documents into the
 * running fleet and checks that the new table replicates.
 */
export function rehearsalNextFleet(): DistributedPostgresProps {
  const fleet = rehearsalFleet();
  return { ...fleet, replication: { ...fleet.replication, globalTables: [...fleet.replication!.globalTables!, 'public.items_next'] } };
}

/**
 * A rehearsal declaration without its last node group. What `cdktf deploy` of it changes for the groups that stay is
 * their mesh documents only; the rehearsal's `remove-group` drill stores them, destroys the removed group's machines
 * and checks that the others let go of it (subscriptions, slots, pg_hba).
 */
export function withoutLastGroup(fleet: DistributedPostgresProps): DistributedPostgresProps {
  return { ...fleet, nodeGroups: fleet.nodeGroups.slice(0, -1) };
}

export class RehearsalStack extends TerraformStack {
  public readonly fleet: DistributedPostgres;

  /** A rehearsal fleet (by default `rehearsalFleet()`) with an aliased AWS provider per region it uses. */
  constructor(scope: Construct, id: string, fleet: DistributedPostgresProps = rehearsalFleet()) {
    super(scope, id);
    const regions = [...new Set(fleet.nodeGroups.map((g) => g.region))];
    const awsProviders = regions.map((region) => ({
      region,
      provider: new AwsProvider(this, `aws-${region}`, { region, alias: region }),
    }));
    this.fleet = new DistributedPostgres(this, 'rehearse', { ...fleet, awsProviders });
    for (const endpoint of this.fleet.endpoints) {
      new TerraformOutput(this, `${endpoint.nodeGroup}-endpoint`, { value: { fqdn: endpoint.fqdn, addresses: endpoint.addresses } });
    }
  }
}
