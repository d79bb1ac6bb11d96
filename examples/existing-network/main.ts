/**
 * Example: a fleet placed in what the company already has. The network team owns the AWS VPCs and subnets of
 * us-east-1 and eu-west-1 (joined by its Transit Gateway) and a GCP Shared VPC in its host project (joined to AWS by
 * its interconnect); the security team owns the KMS and Cloud KMS keys; the DNS team owns the private zones. The
 * construct creates no VPC, subnet, route, NAT, peering, VPN or zone: machines, disks, secrets, security groups and
 * firewall rules, load balancers, address reservations and DNS records only.
 * Build and synth: `npm run build && cd examples/existing-network && npx cdktf synth`.
 */
import { DataAwsKmsKey } from '@cdktf/provider-aws/lib/data-aws-kms-key';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { AwsInterRegion, Cloud, DistributedPostgres, Interconnect } from '../../lib';

/** The network team's plan: the ranges are written here (the machines' addresses are planned in them at synth). */
const AWS_SUBNETS = {
  'us-east-1': [['us-east-1a', '10.20.1.0/24'], ['us-east-1b', '10.20.2.0/24'], ['us-east-1c', '10.20.3.0/24']],
  'eu-west-1': [['eu-west-1a', '10.30.1.0/24'], ['eu-west-1b', '10.30.2.0/24'], ['eu-west-1c', '10.30.3.0/24']],
} as const;

export class ExistingNetworkStack extends TerraformStack {
  public readonly fleet: DistributedPostgres;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const regions = Object.keys(AWS_SUBNETS) as (keyof typeof AWS_SUBNETS)[];
    const awsProviders = regions.map((region) => ({ region, provider: new AwsProvider(this, `aws-${region}`, { region, alias: region }) }));
    const project = new TerraformVariable(this, 'gcp_project', { type: 'string', description: 'Service project of the GCP machines' });
    const googleProvider = new GoogleProvider(this, 'google', { project: project.stringValue });
    // Ids the network team hands over (e.g. from its own state's outputs).
    const input = (name: string, description: string) => new TerraformVariable(this, name, { type: 'string', description }).stringValue;
    const subnets = (region: keyof typeof AWS_SUBNETS) => AWS_SUBNETS[region].map(([zone, cidr]) => ({
      id: input(`subnet_${zone.replace(/-/g, '_')}`, `Database subnet of ${zone} (${cidr})`),
      cidr,
    }));
    // The security team's keys, found by alias.
    const keyArn = (region: string) => new DataAwsKmsKey(this, `kms-${region}`, {
      provider: awsProviders.find((p) => p.region === region)!.provider, keyId: 'alias/databases',
    }).arn;

    this.fleet = new DistributedPostgres(this, 'orders', {
      name: 'orders',
      nodeGroups: [
        {
          name: 'use1', cloud: Cloud.AWS, region: 'us-east-1', zones: AWS_SUBNETS['us-east-1'].map(([zone]) => zone),
          existingNetwork: { awsVpcId: input('vpc_us_east_1', 'VPC of the us-east-1 database subnets'), subnets: subnets('us-east-1') },
        },
        {
          name: 'euw1', cloud: Cloud.AWS, region: 'eu-west-1', zones: AWS_SUBNETS['eu-west-1'].map(([zone]) => zone),
          existingNetwork: { awsVpcId: input('vpc_eu_west_1', 'VPC of the eu-west-1 database subnets'), subnets: subnets('eu-west-1') },
        },
        {
          name: 'euw3', cloud: Cloud.GCP, region: 'europe-west3',
          existingNetwork: {
            gcpNetwork: 'projects/network-host-prod/global/networks/shared',
            subnets: [{ id: 'projects/network-host-prod/regions/europe-west3/subnetworks/databases', cidr: '10.40.0.0/22' }],
          },
        },
      ],
      replication: { globalTables: ['public.orders'] },
      network: {
        awsInterRegion: AwsInterRegion.EXTERNAL,
        interconnect: Interconnect.EXTERNAL,
        privateDnsZone: 'orders.db.corp.internal',
        existingDnsZone: {
          awsHostedZoneId: input('route53_zone_id', 'Route 53 private zone orders.db.corp.internal, associated with both VPCs'),
          gcpManagedZone: 'orders-db-corp-internal',
          gcpProject: 'network-host-prod',
        },
      },
      encryption: {
        awsKmsKeys: regions.map((region) => ({ region, keyArn: keyArn(region) })),
        gcpDiskKmsKeys: [{ region: 'europe-west3', keyName: 'projects/security-keys/locations/europe-west3/keyRings/databases/cryptoKeys/disks' }],
        gcpSecretsKmsKeyName: 'projects/security-keys/locations/global/keyRings/databases/cryptoKeys/secrets',
      },
      awsProviders,
      googleProvider,
    });
    for (const e of this.fleet.endpoints) new TerraformOutput(this, `${e.nodeGroup}-endpoint`, { value: { fqdn: e.fqdn, addresses: e.addresses } });
  }
}

export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new ExistingNetworkStack(app, 'existing-network');
  return app;
}

if (require.main === module) buildApp().synth();
