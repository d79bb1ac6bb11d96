/**
 * Example: backups set by a platform team. Two node groups in two EU regions, each backed up by pgBackRest into the
 * bucket of its own region (so the EU's rows are backed up only in the EU), under a bucket prefix of the company's
 * own (bucket names are global across every AWS account), with a schedule, retention and archive timeout of its own;
 * the busier group also takes incremental backups every two hours.
 * Build and synth: `npm run build && cd examples/backups && npx cdktf synth`.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BackupSchedule, Cloud, DistributedPostgres, ReplicationEngine, Weekday } from '../../lib';

export class BackupsStack extends TerraformStack {
  public readonly fleet: DistributedPostgres;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, 'aws', { region: 'eu-west-1' });
    this.fleet = new DistributedPostgres(this, 'orders', {
      name: 'orders',
      nodeGroups: [
        {
          name: 'euw1', cloud: Cloud.AWS, region: 'eu-west-1',
          // The busier group: a point in time is restored from a backup at most two hours old plus its WAL.
          backup: { incrementalSchedule: BackupSchedule.everyHours(2, 30) },
        },
        { name: 'euc1', cloud: Cloud.AWS, region: 'eu-central-1' },
      ],
      replication: { engine: ReplicationEngine.PGLOGICAL, globalTables: ['public.orders', 'public.order_lines'] },
      backup: {
        bucketNamePrefix: 'acme-orders-backup',
        fullSchedule: BackupSchedule.weekly(Weekday.SATURDAY, 2),
        differentialSchedule: BackupSchedule.daily(2),
        retentionFullBackups: 6,
        archiveTimeoutSeconds: 120,
      },
    });
    for (const b of this.fleet.topology.backupBuckets) new TerraformOutput(this, `bucket-${b.region}`, { value: b.name });
  }
}

export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new BackupsStack(app, 'backups');
  return app;
}

if (require.main === module) buildApp().synth();
