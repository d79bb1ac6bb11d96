/**
 * Backups in the synthesized reference stack (stacks/ledger.ts: AWS us-east-1 + eu-west-1, GCP europe-west3): a bucket
 * per cloud region with its key, privacy, versioning, encryption, TLS-only policy and lifecycle; and the issue's "done
 * when": each node group's machines can reach only their own prefix `<fleet>/<group>/`. The permissions are read from
 * the Terraform JSON itself (the role policies' documents, the GCS bindings), following every reference from a
 * machine to its identity, so a policy attached anywhere else would show.
 */
import { Cloud, DistributedPostgresProps } from '../../lib';
import { ABORT_INCOMPLETE_UPLOAD_DAYS, NONCURRENT_VERSION_DAYS } from '../../lib/cloud/aws/backup';
import { ledgerFleet, LedgerStack } from '../../stacks/ledger';
import { Testing } from 'cdktf';
import { fleetStack, Resource, resourcesOf, synthesizedOnce, synthJson, TfJson } from '../stacks/helpers';

const ledger = () => synthesizedOnce('ledger', () => new LedgerStack(Testing.app(), 'ledger'));

/** The resource a `${type.id.attr}` reference names, as [type, id, body]. */
function deref(json: TfJson, reference: string): [string, string, Resource] {
  const m = /^\$\{(data\.)?([a-z0-9_]+)\.([^.}]+)\.[a-z_]+\}$/.exec(reference);
  if (!m) throw new Error(`not a reference: ${reference}`);
  const body = (m[1] ? json.data : json.resource)?.[m[2]]?.[m[3]];
  if (!body) throw new Error(`no ${reference}`);
  return [`${m[1] ?? ''}${m[2]}`, m[3], body];
}

/** Every statement of every policy of the role an AWS machine runs with. */
function machineStatements(json: TfJson, machine: Resource): Resource[] {
  const [, , profile] = deref(json, machine.iam_instance_profile);
  const [, roleId] = deref(json, profile.role);
  const policies = resourcesOf(json, 'aws_iam_role_policy').filter(([, p]) => p.role === `\${aws_iam_role.${roleId}.id}`);
  expect(resourcesOf(json, 'aws_iam_role_policy_attachment')).toEqual([]);
  expect(resourcesOf(json, 'aws_iam_role').find(([id]) => id === roleId)![1].managed_policy_arns).toBeUndefined();
  return policies.flatMap(([, p]) => deref(json, p.policy)[2].statement);
}

/** Every S3 ARN, prefix condition and bucket name a statement names. */
function s3Names(statement: Resource): string[] {
  const conditions = (statement.condition ?? []).filter((c: Resource) => c.variable === 's3:prefix' || /EncryptionContext:aws:s3:arn/.test(c.variable));
  return [...statement.resources.filter((r: string) => r.startsWith('arn:aws:s3:::')), ...conditions.flatMap((c: Resource) => c.values)];
}

/** What a machine's role says about S3: each S3 name and the actions that go with it. */
function awsReach(json: TfJson, machine: Resource): { names: string[]; actions: string[] } {
  const statements = machineStatements(json, machine).filter((s) => s.actions.some((a: string) => a.startsWith('s3:') || a.startsWith('kms:GenerateDataKey')));
  return { names: [...new Set(statements.flatMap(s3Names))].sort(), actions: [...new Set(statements.flatMap((s) => s.actions as string[]))].sort() };
}

/** The GCS grants that name a machine's service account: [type, body]. */
function gcsGrants(json: TfJson, machine: Resource): [string, Resource][] {
  const [, saId] = deref(json, machine.service_account.email);
  const member = `\${google_service_account.${saId}.member}`;
  return Object.keys(json.resource).filter((t) => /^google_storage_.*_iam_/.test(t))
    .flatMap((t) => resourcesOf(json, t).filter(([, b]) => b.member === member || (b.members ?? []).includes(member)).map(([, b]) => [t, b] as [string, Resource]));
}

describe('the ledger reference stack', () => {
  test('AWS: a bucket per region, encrypted with a rotating key of the fleet, private, versioned, TLS only, with a lifecycle', () => {
    const { json, stack } = ledger();
    const topology = stack.fleet.topology;
    const aws = topology.backupBuckets.filter((b) => b.cloud === 'aws');
    expect(aws.map((b) => b.region)).toEqual(['eu-west-1', 'us-east-1']);
    const buckets = resourcesOf(json, 'aws_s3_bucket');
    expect(buckets.map(([, b]) => `${b.region} ${b.bucket}`).sort()).toEqual(['eu-west-1 ledger-backup-eu-west-1', 'us-east-1 ledger-backup-us-east-1']);
    const keys = resourcesOf(json, 'aws_kms_key');
    expect(keys).toHaveLength(2);
    for (const [, key] of keys) expect(key).toMatchObject({ enable_key_rotation: true, customer_master_key_spec: 'SYMMETRIC_DEFAULT', deletion_window_in_days: 30 });
    expect(resourcesOf(json, 'aws_kms_alias').map(([, a]) => `${a.region} ${a.name}`).sort()).toEqual(['eu-west-1 alias/ledger-backup', 'us-east-1 alias/ledger-backup']);
    const settings = (type: string, id: string) => resourcesOf(json, type).filter(([, s]) => s.bucket === `\${aws_s3_bucket.${id}.id}`).map(([, s]) => s);
    for (const [id, b] of buckets) {
      expect(b.force_destroy).toBe(false);
      expect(b.tags).toMatchObject({ Name: b.bucket, 'distributed-postgres:fleet': 'ledger' });
      expect(settings('aws_s3_bucket_public_access_block', id)).toEqual([expect.objectContaining({
        block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true, region: b.region,
      })]);
      expect(settings('aws_s3_bucket_ownership_controls', id)).toEqual([expect.objectContaining({ rule: { object_ownership: 'BucketOwnerEnforced' } })]);
      expect(settings('aws_s3_bucket_versioning', id)).toEqual([expect.objectContaining({ versioning_configuration: { status: 'Enabled' } })]);
      const [sse] = settings('aws_s3_bucket_server_side_encryption_configuration', id);
      const [keyId] = keys.find(([, k]) => k.region === b.region)!;
      expect(sse.rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: `\${aws_kms_key.${keyId}.arn}` }, bucket_key_enabled: true }]);
      const [policy] = settings('aws_s3_bucket_policy', id);
      expect(JSON.parse(policy.policy).Statement).toEqual([{
        Sid: 'DenyWithoutTls', Effect: 'Deny', Principal: '*', Action: 's3:*',
        Resource: [`arn:aws:s3:::${b.bucket}`, `arn:aws:s3:::${b.bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }]);
      const [lifecycle] = settings('aws_s3_bucket_lifecycle_configuration', id);
      expect(lifecycle.rule).toEqual([expect.objectContaining({
        status: 'Enabled', noncurrent_version_expiration: [{ noncurrent_days: NONCURRENT_VERSION_DAYS }],
        abort_incomplete_multipart_upload: [{ days_after_initiation: ABORT_INCOMPLETE_UPLOAD_DAYS }],
      })]);
    }
  });

  test('GCP: a bucket in the region, uniform access, public access prevention, versioning, noncurrent versions deleted', () => {
    const { json, stack } = ledger();
    const buckets = resourcesOf(json, 'google_storage_bucket');
    expect(buckets).toHaveLength(1);
    const [, b] = buckets[0];
    expect(b).toMatchObject({
      name: 'ledger-backup-europe-west3', location: 'EUROPE-WEST3', uniform_bucket_level_access: true, public_access_prevention: 'enforced',
      versioning: { enabled: true }, force_destroy: false, labels: { 'distributed-postgres-fleet': 'ledger' },
    });
    expect(b.lifecycle_rule).toContainEqual({ action: { type: 'Delete' }, condition: { days_since_noncurrent_time: NONCURRENT_VERSION_DAYS, with_state: 'ARCHIVED' } });
    // No key of the region in the ledger's declaration: Google-managed keys.
    expect(stack.fleet.topology.encryption?.gcpDiskKmsKeys['europe-west3']).toBeUndefined();
    expect(b.encryption).toBeUndefined();
    // Nothing is granted on the bucket itself: only on each group's managed folder.
    for (const type of ['google_storage_bucket_iam_member', 'google_storage_bucket_iam_binding', 'google_storage_bucket_iam_policy']) {
      expect(resourcesOf(json, type)).toEqual([]);
    }
  });

  test("each AWS node group's machines reach only their own prefix of their region's bucket, with what pgBackRest needs", () => {
    const { json, stack } = ledger();
    const topology = stack.fleet.topology;
    const machines = resourcesOf(json, 'aws_instance');
    expect(machines.length).toBeGreaterThan(0);
    for (const [, machine] of machines) {
      const group = topology.nodeGroups.find((g) => g.name === machine.tags['distributed-postgres:node-group'])!;
      const bucket = `ledger-backup-${group.region}`;
      const reach = awsReach(json, machine);
      expect(reach.names).toEqual([`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/ledger/${group.name}/*`, `ledger/${group.name}/*`].sort());
      expect(reach.actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 's3:DeleteObject', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:ListBucketVersions', 's3:PutObject']);
      const statements = machineStatements(json, machine);
      // Listing the bucket only under the prefix; objects only under it; the key only through S3 of the region.
      const list = statements.find((s) => s.actions.includes('s3:ListBucket'))!;
      expect(list.resources).toEqual([`arn:aws:s3:::${bucket}`]);
      expect(list.condition).toEqual([{ test: 'StringLike', variable: 's3:prefix', values: [`ledger/${group.name}/*`] }]);
      const objects = statements.find((s) => s.actions.includes('s3:PutObject'))!;
      expect(objects.resources).toEqual([`arn:aws:s3:::${bucket}/ledger/${group.name}/*`]);
      expect(objects.actions).not.toContain('s3:DeleteObjectVersion');
      const kms = statements.find((s) => s.actions.includes('kms:GenerateDataKey'))!;
      const [, , key] = deref(json, kms.resources[0]);
      expect(key.region).toBe(group.region);
      expect(kms.condition).toContainEqual({ test: 'StringEquals', variable: 'kms:ViaService', values: [`s3.${group.region}.amazonaws.com`] });
      // Nothing else anywhere in its policies: no wildcard resource, no other action on S3 or KMS.
      for (const s of statements) {
        expect(s.resources).not.toContain('*');
        expect(s.actions.filter((a: string) => !/^(s3|kms|secretsmanager):/.test(a))).toEqual([]);
      }
      const others = topology.nodeGroups.filter((g) => g.name !== group.name).map((g) => `ledger/${g.name}/`);
      for (const other of others) expect(JSON.stringify(statements)).not.toContain(other);
    }
  });

  test("each GCP node group's machines reach only their own managed folder, as their own service account", () => {
    const { json, stack } = ledger();
    const topology = stack.fleet.topology;
    const machines = resourcesOf(json, 'google_compute_instance');
    expect(machines.length).toBeGreaterThan(0);
    for (const [, machine] of machines) {
      const group = topology.nodeGroups.find((g) => g.name === machine.labels['distributed-postgres-node-group'])!;
      const grants = gcsGrants(json, machine);
      expect(grants).toEqual([['google_storage_managed_folder_iam_member', expect.objectContaining({
        bucket: `ledger-backup-${group.region}`, managed_folder: `ledger/${group.name}/`, role: 'roles/storage.objectUser',
      })]]);
      const folders = resourcesOf(json, 'google_storage_managed_folder').map(([, f]) => f);
      expect(folders).toContainEqual(expect.objectContaining({ bucket: `ledger-backup-${group.region}`, name: `ledger/${group.name}/`, force_destroy: false }));
      const [, , sa] = deref(json, machine.service_account.email);
      expect(sa.account_id).toBe(`ledger-${group.name}-db`);
    }
    // Every folder binding names the service account of the group the folder belongs to.
    for (const [id, m] of resourcesOf(json, 'google_storage_managed_folder_iam_member')) {
      const group = m.managed_folder.split('/')[1];
      expect(id).toContain(`group-${group}_identity`);
      expect(deref(json, m.member)[1]).toContain(`group-${group}_identity`);
    }
  });
});

describe('two node groups sharing a region share its bucket, not their prefixes', () => {
  const props = (): DistributedPostgresProps => ({
    name: 'pay',
    nodeGroups: [
      { name: 'a', cloud: Cloud.AWS, region: 'eu-central-1' },
      { name: 'b', cloud: Cloud.AWS, region: 'eu-central-1' },
      { name: 'c', cloud: Cloud.GCP, region: 'europe-west1' },
      { name: 'd', cloud: Cloud.GCP, region: 'europe-west1' },
    ],
  });
  const synthesized = () => synthesizedOnce('shared', () => fleetStack(props()).stack);

  test('one bucket per cloud region; each group reaches its own prefix only', () => {
    const { json } = synthesized();
    expect(resourcesOf(json, 'aws_s3_bucket').map(([, b]) => b.bucket)).toEqual(['pay-backup-eu-central-1']);
    expect(resourcesOf(json, 'google_storage_bucket').map(([, b]) => b.name)).toEqual(['pay-backup-europe-west1']);
    const reach = new Map<string, string[]>();
    for (const [, m] of resourcesOf(json, 'aws_instance')) {
      const names = awsReach(json, m).names;
      const group = m.tags['distributed-postgres:node-group'];
      expect(reach.get(group) ?? names).toEqual(names);
      reach.set(group, names);
    }
    for (const [, m] of resourcesOf(json, 'google_compute_instance')) {
      const folders = gcsGrants(json, m).map(([, g]) => `${g.bucket}/${g.managed_folder}`);
      const group = m.labels['distributed-postgres-node-group'];
      expect(reach.get(group) ?? folders).toEqual(folders);
      reach.set(group, folders);
    }
    expect(Object.fromEntries(reach)).toEqual({
      a: ['arn:aws:s3:::pay-backup-eu-central-1', 'arn:aws:s3:::pay-backup-eu-central-1/pay/a/*', 'pay/a/*'],
      b: ['arn:aws:s3:::pay-backup-eu-central-1', 'arn:aws:s3:::pay-backup-eu-central-1/pay/b/*', 'pay/b/*'],
      c: ['pay-backup-europe-west1/pay/c/'],
      d: ['pay-backup-europe-west1/pay/d/'],
    });
  });
});

describe('backups off, and keys of the declaration', () => {
  test('a group with backups off gets no repository; a declared KMS key replaces the created one', () => {
    const p = ledgerFleet();
    const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/0000aaaa-bb11-cc22-dd33-eeeeee444444';
    const props: DistributedPostgresProps = {
      ...p,
      encryption: { awsKmsKeys: [{ region: 'us-east-1', keyArn }] },
      nodeGroups: p.nodeGroups.map((g) => (g.name === 'use1' ? g : { ...g, backup: { enabled: false } })),
    };
    const json = synthJson(fleetStack(props).stack);
    expect(resourcesOf(json, 'aws_s3_bucket').map(([, b]) => b.bucket)).toEqual(['ledger-backup-us-east-1']);
    expect(resourcesOf(json, 'google_storage_bucket')).toEqual([]);
    expect(resourcesOf(json, 'google_storage_managed_folder')).toEqual([]);
    expect(resourcesOf(json, 'aws_kms_key')).toEqual([]);
    const [sse] = resourcesOf(json, 'aws_s3_bucket_server_side_encryption_configuration').map(([, s]) => s);
    expect(sse.rule[0].apply_server_side_encryption_by_default.kms_master_key_id).toBe(keyArn);
    for (const [, m] of resourcesOf(json, 'aws_instance')) {
      const reach = awsReach(json, m);
      if (m.tags['distributed-postgres:node-group'] === 'use1') {
        expect(reach.names).toContain('arn:aws:s3:::ledger-backup-us-east-1/ledger/use1/*');
        const kms = machineStatements(json, m).find((s) => s.actions.includes('kms:GenerateDataKey'))!;
        expect(kms.resources).toEqual([keyArn]);
      } else {
        expect(reach).toEqual({ names: [], actions: [] });
      }
    }
    for (const [, m] of resourcesOf(json, 'google_compute_instance')) expect(gcsGrants(json, m)).toEqual([]);
  });
});
