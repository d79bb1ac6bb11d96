/**
 * The reference company stack: a global ledger on AWS us-east-1 + eu-west-1 and Google Cloud europe-west3, with an `eu`
 * geoshard whose entries never leave the EU groups. Composed the way a platform team would: the team owns the
 * providers (one per AWS region, with default tags; the Google project is an input), the library owns the fleet, and
 * the stack publishes the leader endpoints.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { Cloud, DistributedPostgres, DistributedPostgresProps } from '../lib';

const AWS_REGIONS = ['us-east-1', 'eu-west-1'];

/** The ledger's declaration (providers are added by the stack); tests resolve and render it directly. */
export function ledgerFleet(): DistributedPostgresProps {
  return {
    name: 'ledger',
    nodeGroups: [
      { name: 'use1', cloud: Cloud.AWS, region: 'us-east-1' },
      { name: 'euw1', cloud: Cloud.AWS, region: 'eu-west-1' },
      { name: 'euw3', cloud: Cloud.GCP, region: 'europe-west3' },
    ],
    replication: {
      globalTables: ['ledger.accounts', 'ledger.currencies'],
      deltaApplyColumns: [{ table: 'ledger.accounts', column: 'balance' }],
    },
    geoshards: [
      {
        name: 'eu',
        nodeGroups: ['euw1', 'euw3'],
        tables: [{ table: 'ledger.entries', partition: 'ledger.entries_eu', values: ['eu'] }],
      },
    ],
    network: { clientCidrs: ['10.200.0.0/16'] },
  };
}

export class LedgerStack extends TerraformStack {
  public readonly fleet: DistributedPostgres;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const defaultTags = [{ tags: { Team: 'payments-platform', Service: 'ledger', ManagedBy: 'cdktf' } }];
    const awsProviders = AWS_REGIONS.map((region) => ({
      region,
      provider: new AwsProvider(this, `aws-${region}`, { region, alias: region, defaultTags }),
    }));
    const project = new TerraformVariable(this, 'gcp_project', {
      type: 'string',
      description: 'Google Cloud project that holds the ledger fleet',
    });
    const googleProvider = new GoogleProvider(this, 'google', { project: project.stringValue, region: 'europe-west3' });

    // The lock (committed beside this file; the path is relative to where synth runs, the project root) makes synth
    // refuse a change the running fleet cannot make, such as moving a node group to another region.
    this.fleet = new DistributedPostgres(this, 'ledger', { ...ledgerFleet(), awsProviders, googleProvider, lockFile: 'stacks/ledger.lock.json' });

    for (const endpoint of this.fleet.endpoints) {
      new TerraformOutput(this, `${endpoint.nodeGroup}-endpoint`, {
        description: `Leader endpoint of node group ${endpoint.nodeGroup} (${endpoint.cloud} ${endpoint.region}): Postgres on 5432`,
        value: { fqdn: endpoint.fqdn, addresses: endpoint.addresses },
      });
    }
  }
}
