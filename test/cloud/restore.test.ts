/**
 * A restored node group (restoreFrom) in the synthesized JSON: its machines' role / service account may read the SOURCE
 * group's prefix of the region's bucket and nothing else of the backups (no write, no delete, no prefix of its own),
 * and the source keeps its own grants. Read from the Terraform JSON, following each machine to its identity.
 */
import { Cloud, DistributedPostgresProps } from '../../lib';
import { evaluateTerraformJson, evaluateTopology } from '../../lib/pipeline';
import { fleetStack, Resource, resourcesOf, synthesizedOnce, TfJson } from '../stacks/helpers';

function deref(json: TfJson, reference: string): Resource {
  const m = /^\$\{(data\.)?([a-z0-9_]+)\.([^.}]+)\.[a-z_]+\}$/.exec(reference);
  if (!m) throw new Error(`not a reference: ${reference}`);
  const body = (m[1] ? json.data : json.resource)?.[m[2]]?.[m[3]];
  if (!body) throw new Error(`no ${reference}`);
  return body;
}

/** The statements touching S3 or KMS of the role an AWS machine runs with. */
function backupStatements(json: TfJson, machine: Resource): Resource[] {
  const profile = deref(json, machine.iam_instance_profile);
  const roleRef = profile.role.replace(/\.name\}$/, '.id}');
  return resourcesOf(json, 'aws_iam_role_policy').filter(([, p]) => p.role === roleRef)
    .flatMap(([, p]) => deref(json, p.policy).statement as Resource[])
    .filter((s) => s.actions.some((a: string) => a.startsWith('s3:') || a.startsWith('kms:')))
    .filter((s) => !(s.condition ?? []).some((c: Resource) => c.variable === 'kms:ViaService' && c.values.some((v: string) => v.startsWith('secretsmanager.'))));
}

const props = (): DistributedPostgresProps => ({
  name: 'pay',
  nodeGroups: [
    { name: 'a', cloud: Cloud.AWS, region: 'eu-central-1' },
    { name: 'a-copy', cloud: Cloud.AWS, region: 'eu-central-1', restoreFrom: { nodeGroup: 'a', targetTime: '2026-11-27T10:14:59Z' } },
    { name: 'c', cloud: Cloud.GCP, region: 'europe-west1' },
    { name: 'c-copy', cloud: Cloud.GCP, region: 'europe-west1', restoreFrom: { nodeGroup: 'c', targetTime: '2026-11-27T11:14:59+01:00' } },
  ],
});
const synthesized = () => synthesizedOnce('restore', () => fleetStack(props()).stack);

describe('a restored node group reads its source\'s repository only', () => {
  test('AWS: list the source prefix, get its objects (and versions), decrypt through S3; no put, no delete', () => {
    const { json } = synthesized();
    const byGroup = (g: string) => resourcesOf(json, 'aws_instance').filter(([, m]) => m.tags['distributed-postgres:node-group'] === g);
    expect(byGroup('a-copy')).toHaveLength(3);
    for (const [, m] of byGroup('a-copy')) {
      const statements = backupStatements(json, m);
      const actions = [...new Set(statements.flatMap((s) => s.actions as string[]))].sort();
      expect(actions).toEqual(['kms:Decrypt', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:ListBucketVersions']);
      const names = [...new Set(statements.flatMap((s) => [
        ...s.resources.filter((r: string) => r.startsWith('arn:aws:s3:::')),
        ...(s.condition ?? []).filter((c: Resource) => c.variable === 's3:prefix' || /aws:s3:arn/.test(c.variable)).flatMap((c: Resource) => c.values),
      ]))].sort();
      expect(names).toEqual(['arn:aws:s3:::pay-backup-eu-central-1', 'arn:aws:s3:::pay-backup-eu-central-1/pay/a/*', 'pay/a/*']);
    }
    // The source keeps its own read-write grants on its own prefix.
    for (const [, m] of byGroup('a')) {
      const actions = [...new Set(backupStatements(json, m).flatMap((s) => s.actions as string[]))].sort();
      expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 's3:DeleteObject']));
    }
  });

  test('GCP: objectViewer on the source\'s managed folder, no folder or grant of its own', () => {
    const { json } = synthesized();
    const machines = resourcesOf(json, 'google_compute_instance').filter(([, m]) => m.labels['distributed-postgres-node-group'] === 'c-copy');
    expect(machines).toHaveLength(3);
    for (const [, m] of machines) {
      const saRef = m.service_account.email as string;
      const member = saRef.replace(/\.email\}$/, '.member}');
      const grants = Object.keys(json.resource).filter((t) => /^google_storage_.*_iam_/.test(t))
        .flatMap((t) => resourcesOf(json, t).filter(([, b]) => b.member === member).map(([, b]) => `${t} ${b.role} ${b.bucket}/${b.managed_folder}`));
      expect(grants).toEqual(['google_storage_managed_folder_iam_member roles/storage.objectViewer pay-backup-europe-west1/pay/c/']);
    }
    expect(resourcesOf(json, 'google_storage_managed_folder').map(([, f]) => f.name)).toEqual(['pay/c/']);
  });

  test('the topology keeps it out of the mesh and out of the buckets\' list of groups backing up', () => {
    const { stack } = synthesized();
    const fleet = stack.node.findAll().find((c) => (c as { topology?: unknown }).topology) as unknown as { topology: import('../../lib/topology/topology').Topology };
    const t = fleet.topology;
    expect(t.subscriptions.map((s) => `${s.subscriber}<-${s.provider}`)).toEqual(['a<-c', 'c<-a']);
    expect(t.backupBuckets.map((b) => `${b.name}: ${b.nodeGroups.join(',')}`)).toEqual(['pay-backup-eu-central-1: a', 'pay-backup-europe-west1: c']);
  });

  test('the policy pack finds nothing in the stack or the topology (no DPG-P020 for the group that archives nothing)', () => {
    const { json, stack } = synthesized();
    const fleet = stack.node.findAll().find((c) => (c as { topology?: unknown }).topology) as unknown as { topology: import('../../lib/topology/topology').Topology };
    expect(evaluateTerraformJson(json).map((r) => r.text)).toEqual([]);
    expect(evaluateTopology(fleet.topology, 'test').map((r) => r.text)).toEqual([]);
  });
});
