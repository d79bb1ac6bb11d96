/**
 * Example: two node groups in two AWS regions, multi-master with Spock (pgEdge packages). The regions are joined by
 * VPC peering; each group subscribes to the other through the other group's leader load balancer. One AWS provider
 * serves both regions: every resource carries its own `region` (AWS provider 6+).
 * Build and synth: `npm run build && cd examples/two-region-aws && npx cdktf synth`.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Cloud, DistributedPostgres, LeaderEndpoint, ReplicationEngine } from '../../lib';

export class TwoRegionAwsStack extends TerraformStack {
  public readonly fleet: DistributedPostgres;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, 'aws', { region: 'us-east-1', defaultTags: [{ tags: { Service: 'catalog' } }] });
    this.fleet = new DistributedPostgres(this, 'catalog', {
      name: 'catalog',
      nodeGroups: [
        { name: 'use1', cloud: Cloud.AWS, region: 'us-east-1' },
        { name: 'usw2', cloud: Cloud.AWS, region: 'us-west-2' },
      ],
      replication: {
        engine: ReplicationEngine.SPOCK,
        leaderEndpoint: LeaderEndpoint.LOAD_BALANCER,
        globalTables: ['public.products', 'public.prices'],
      },
    });
    for (const e of this.fleet.endpoints) new TerraformOutput(this, `${e.nodeGroup}-endpoint`, { value: { fqdn: e.fqdn, addresses: e.addresses } });
  }
}

export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new TwoRegionAwsStack(app, 'two-region-aws');
  return app;
}

if (require.main === module) buildApp().synth();
