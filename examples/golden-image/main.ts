/**
 * Example: golden images. The platform team bakes its machine images with Packer (PostgreSQL 17 built with Spock's
 * patches, Spock, snowflake, Patroni, etcd, cloud-init: see README.md), so the machines install nothing at boot
 * (`PackageSource.IMAGE`): no package mirror is needed, and every machine of a deploy runs exactly what was tested.
 * AWS `us-east-1` boots the newest `dpg-spock-pg17-*` AMI of the images account; GCP `europe-west3` boots the newest
 * image of the `dpg-spock-pg17` family. Both images are built on Ubuntu 24.04 with the server binaries in
 * `/opt/postgres/17/bin`. Build and synth: `npm run build && cd examples/golden-image && npx cdktf synth`.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { Cloud, DistributedPostgres, ImageFlavour, MachineImage, PackageSource, ReplicationEngine } from '../../lib';

/** The AWS account the image pipeline publishes AMIs to (shared with the fleet's accounts). */
export const IMAGES_ACCOUNT = '123456789012';

export class GoldenImageStack extends TerraformStack {
  public readonly fleet: DistributedPostgres;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, 'aws', { region: 'us-east-1', defaultTags: [{ tags: { Service: 'payments' } }] });
    const project = new TerraformVariable(this, 'gcp_project', { type: 'string', description: 'Google Cloud project of the EU group' });
    new GoogleProvider(this, 'google', { project: project.stringValue });
    this.fleet = new DistributedPostgres(this, 'payments', {
      name: 'payments',
      nodeGroups: [
        {
          name: 'use1', cloud: Cloud.AWS, region: 'us-east-1', image: ImageFlavour.UBUNTU_24_04,
          machineImage: MachineImage.awsAmiLookup(IMAGES_ACCOUNT, 'dpg-spock-pg17-*'),
        },
        {
          name: 'euw3', cloud: Cloud.GCP, region: 'europe-west3', image: ImageFlavour.UBUNTU_24_04,
          machineImage: MachineImage.gcpImage('projects/acme-images/global/images/family/dpg-spock-pg17'),
        },
      ],
      postgres: { packageSource: PackageSource.IMAGE, version: 17, binDir: '/opt/postgres/17/bin' },
      replication: {
        engine: ReplicationEngine.SPOCK,
        globalTables: ['public.wallets', 'public.transfers'],
        deltaApplyColumns: [{ table: 'public.wallets', column: 'balance' }],
      },
    });
    for (const e of this.fleet.endpoints) new TerraformOutput(this, `${e.nodeGroup}-endpoint`, { value: { fqdn: e.fqdn, addresses: e.addresses } });
  }
}

export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new GoldenImageStack(app, 'golden-image');
  return app;
}

if (require.main === module) buildApp().synth();
