/**
 * Example: a fleet across AWS and Google Cloud with data residency. Customers and products replicate everywhere; the
 * `eu` partition of `shop.orders` replicates only between the two EU groups (AWS eu-central-1 and GCP europe-west4),
 * so EU orders never reach the US group. AWS and GCP are joined by an HA VPN (4 tunnels, BGP).
 * Build and synth: `npm run build && cd examples/multi-cloud-geoshard && npx cdktf synth`.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { Cloud, DistributedPostgres } from '../../lib';

export class MultiCloudGeoshardStack extends TerraformStack {
  public readonly fleet: DistributedPostgres;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const awsProviders = ['eu-central-1', 'us-east-1'].map((region) => ({
      region,
      provider: new AwsProvider(this, `aws-${region}`, { region, alias: region }),
    }));
    const project = new TerraformVariable(this, 'gcp_project', { type: 'string', description: 'Google Cloud project of the EU group' });
    const googleProvider = new GoogleProvider(this, 'google', { project: project.stringValue });
    this.fleet = new DistributedPostgres(this, 'shop', {
      name: 'shop',
      nodeGroups: [
        { name: 'euc1', cloud: Cloud.AWS, region: 'eu-central-1' },
        { name: 'euw4', cloud: Cloud.GCP, region: 'europe-west4' },
        { name: 'use1', cloud: Cloud.AWS, region: 'us-east-1' },
      ],
      replication: { globalTables: ['shop.customers', 'shop.products'] },
      geoshards: [
        { name: 'eu', nodeGroups: ['euc1', 'euw4'], tables: [{ table: 'shop.orders', partition: 'shop.orders_eu', values: ['eu'] }] },
        { name: 'us', nodeGroups: ['use1'], tables: [{ table: 'shop.orders', partition: 'shop.orders_us', values: ['us'] }] },
      ],
      awsProviders,
      googleProvider,
    });
    for (const e of this.fleet.endpoints) new TerraformOutput(this, `${e.nodeGroup}-endpoint`, { value: { fqdn: e.fqdn, addresses: e.addresses } });
  }
}

export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new MultiCloudGeoshardStack(app, 'multi-cloud-geoshard');
  return app;
}

if (require.main === module) buildApp().synth();
