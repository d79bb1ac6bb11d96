/**
 * Example: one highly available node group in one AWS region. Three Postgres members over three zones with
 * co-located etcd, synchronous replication to one of two standbys, and an internal load balancer that always points
 * at the leader. Build and synth: `npm run build && cd examples/single-region && npx cdktf synth`.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Cloud, DistributedPostgres } from '../../lib';

export class SingleRegionStack extends TerraformStack {
  public readonly fleet: DistributedPostgres;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, 'aws', { region: 'eu-central-1' });
    this.fleet = new DistributedPostgres(this, 'orders', {
      name: 'orders',
      nodeGroups: [{ name: 'euc1', cloud: Cloud.AWS, region: 'eu-central-1', machineType: 'r6i.large', dataDisk: { sizeGiB: 200 } }],
      network: { clientCidrs: ['10.10.0.0/16'] },
    });
    const [endpoint] = this.fleet.endpoints;
    new TerraformOutput(this, 'endpoint', { value: endpoint.fqdn, description: 'Postgres (5432) on the current leader' });
    new TerraformOutput(this, 'endpoint-addresses', { value: endpoint.addresses });
  }
}

export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new SingleRegionStack(app, 'single-region');
  return app;
}

if (require.main === module) buildApp().synth();
