/**
 * The bucket rules (DPG-P015 to DPG-P017, DPG-P019) against small stacks built from provider classes, and the backup
 * topology rules (DPG-P018, DPG-P020) against resolved topologies changed to break what they guard: each fires on a
 * non-compliant form and stays quiet on the compliant one. The rules read an S3 bucket's separate settings through
 * the Aspect's related blocks and through a whole JSON document alike.
 */
import { Testing, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketAcl } from '@cdktf/provider-aws/lib/s3-bucket-acl';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { StorageBucket, StorageBucketConfig } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageManagedFolderIamMember } from '@cdktf/provider-google/lib/storage-managed-folder-iam-member';
import { tlsOnlyBucketPolicy } from '../../lib/cloud/aws/backup';
import { Topology } from '../../lib';
import { resolveFleet } from '../../lib/pipeline';
import { evaluateTerraformJson, evaluateTopology, TOPOLOGY_RULES } from '../../lib/policy';
import { ledgerFleet } from '../fixtures/fleets';
import { findingsFor } from './helpers';

interface S3Parts {
  publicAccess?: Partial<Record<'blockPublicAcls' | 'blockPublicPolicy' | 'ignorePublicAcls' | 'restrictPublicBuckets', boolean>> | false;
  encryption?: boolean;
  policy?: string | false | ((bucket: S3Bucket) => string);
  name?: string;
  region?: string;
}

/** An S3 bucket with its settings; by default every setting a backup bucket has (tests remove or change one). */
function s3Bucket(scope: Construct, parts: S3Parts = {}): S3Bucket {
  const name = parts.name ?? 'acme-backup-us-east-1';
  const bucket = new S3Bucket(scope, 'bucket', { bucket: name, ...(parts.region ? { region: parts.region } : {}) });
  if (parts.publicAccess !== false) {
    new S3BucketPublicAccessBlock(scope, 'pab', {
      bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, ...parts.publicAccess,
    });
  }
  if (parts.encryption !== false) {
    new S3BucketServerSideEncryptionConfigurationA(scope, 'sse', {
      bucket: bucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'arn:aws:kms:us-east-1:1:key/k' } }],
    });
  }
  if (parts.policy !== false) {
    const policy = typeof parts.policy === 'function' ? parts.policy(bucket) : parts.policy ?? tlsOnlyBucketPolicy('us-east-1', name);
    new S3BucketPolicy(scope, 'policy', { bucket: bucket.id, policy });
  }
  return bucket;
}

function gcsBucket(scope: Construct, change: Partial<StorageBucketConfig> = {}): StorageBucket {
  return new StorageBucket(scope, 'gcs', {
    name: 'acme-backup-europe-west3', location: 'EUROPE-WEST3', uniformBucketLevelAccess: true, publicAccessPrevention: 'enforced', ...change,
  });
}

describe('DPG-P015 bucket can be public', () => {
  test.each<[string, (s: TerraformStack) => void, RegExp]>([
    ['an S3 bucket without a public access block', (s) => s3Bucket(s, { publicAccess: false }),
      /^\[DPG-P015\] Bucket can be public: no aws_s3_bucket_public_access_block refers to this bucket, so one ACL or policy can make it public\. Fix: /],
    ['a public access block with two settings off', (s) => s3Bucket(s, { publicAccess: { blockPublicPolicy: false, restrictPublicBuckets: false } }),
      /block_public_policy, restrict_public_buckets are not true/],
    ['a public-read ACL', (s) => { s3Bucket(s); new S3BucketAcl(s, 'acl', { bucket: 'acme-backup-us-east-1', acl: 'public-read' }); },
      /acl is public-read/],
    ['a grant to AllUsers', (s) => {
      s3Bucket(s);
      new S3BucketAcl(s, 'acl', { bucket: 'acme-backup-us-east-1', accessControlPolicy: { owner: { id: 'o' }, grant: [{ permission: 'READ', grantee: { type: 'Group', uri: 'http://acs.amazonaws.com/groups/global/AllUsers' } }] } });
    }, /grant\[0\] grants READ to http:\/\/acs\.amazonaws\.com\/groups\/global\/AllUsers/],
    ['a policy allowing anyone without a condition', (s) => s3Bucket(s, {
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-backup-us-east-1/*' }] }),
    }), /policy statement 0 allows s3:GetObject to anyone \(Principal "\*"\) without a condition/],
    ['a GCS bucket without public access prevention', (s) => gcsBucket(s, { publicAccessPrevention: 'inherited' }),
      /public_access_prevention is "inherited", not "enforced"/],
    ['a GCS bucket role for allUsers', (s) => { gcsBucket(s); new StorageBucketIamMember(s, 'm', { bucket: 'acme-backup-europe-west3', role: 'roles/storage.objectViewer', member: 'allUsers' }); },
      /grants roles\/storage\.objectViewer to allUsers/],
    ['a managed folder role for allAuthenticatedUsers', (s) => {
      gcsBucket(s);
      new StorageManagedFolderIamMember(s, 'm', { bucket: 'acme-backup-europe-west3', managedFolder: 'f/', role: 'roles/storage.objectUser', member: 'allAuthenticatedUsers' });
    }, /grants roles\/storage\.objectUser to allAuthenticatedUsers/],
  ])('flags %s', (_name, build, expected) => {
    expect(findingsFor('DPG-P015', build).errors).toEqual([expect.stringMatching(expected)]);
  });

  test.each<[string, (s: TerraformStack) => void]>([
    ['a backup S3 bucket (settings by reference)', (s) => s3Bucket(s)],
    ['settings naming the bucket literally', (s) => {
      new S3Bucket(s, 'bucket', { bucket: 'named' });
      new S3BucketPublicAccessBlock(s, 'pab', { bucket: 'named', blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    }],
    ['a private GCS bucket with a role for a service account', (s) => {
      gcsBucket(s);
      new StorageBucketIamMember(s, 'm', { bucket: 'acme-backup-europe-west3', role: 'roles/storage.objectViewer', member: 'serviceAccount:a@p.iam.gserviceaccount.com' });
    }],
  ])('passes %s', (_name, build) => {
    expect(findingsFor('DPG-P015', build).all).toEqual([]);
  });

  test("another bucket's public access block does not count", () => {
    const { errors } = findingsFor('DPG-P015', (s) => {
      s3Bucket(s);
      new S3Bucket(s, 'other', { bucket: 'other' });
    });
    expect(errors).toEqual([expect.stringMatching(/no aws_s3_bucket_public_access_block refers to this bucket/)]);
  });
});

describe('DPG-P016 bucket without default encryption', () => {
  test('flags an S3 bucket without an encryption configuration', () => {
    expect(findingsFor('DPG-P016', (s) => s3Bucket(s, { encryption: false })).errors)
      .toEqual([expect.stringMatching(/^\[DPG-P016\] Bucket without default encryption: no aws_s3_bucket_server_side_encryption_configuration refers to this bucket\. Fix: /)]);
  });

  test('flags an encryption configuration without a default', () => {
    expect(findingsFor('DPG-P016', (s) => {
      const bucket = s3Bucket(s, { encryption: false });
      new S3BucketServerSideEncryptionConfigurationA(s, 'sse', { bucket: bucket.id, rule: [{ bucketKeyEnabled: true }] });
    }).errors).toEqual([expect.stringMatching(/no rule has apply_server_side_encryption_by_default with an sse_algorithm/)]);
  });

  test('passes a bucket encrypted with KMS, and Google buckets (always encrypted)', () => {
    expect(findingsFor('DPG-P016', (s) => { s3Bucket(s); gcsBucket(s); }).all).toEqual([]);
  });
});

describe('DPG-P017 bucket reachable without TLS', () => {
  test('flags an S3 bucket without a policy', () => {
    expect(findingsFor('DPG-P017', (s) => s3Bucket(s, { policy: false })).errors)
      .toEqual([expect.stringMatching(/^\[DPG-P017\] Bucket reachable without TLS: no aws_s3_bucket_policy refers to this bucket, so it answers requests without TLS\. Fix: /)]);
  });

  test('flags a policy that does not deny plain-text requests', () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: 'arn:aws:s3:::acme-backup-us-east-1' }] });
    expect(findingsFor('DPG-P017', (s) => s3Bucket(s, { policy })).errors)
      .toEqual([expect.stringMatching(/its bucket policy has no statement denying s3:\* to everyone when aws:SecureTransport is false/)]);
  });

  test('passes the TLS-only policy, as JSON text and as an aws_iam_policy_document', () => {
    expect(findingsFor('DPG-P017', (s) => s3Bucket(s)).all).toEqual([]);
    expect(findingsFor('DPG-P017', (s) => s3Bucket(s, {
      policy: (bucket) => new DataAwsIamPolicyDocument(s, 'doc', {
        statement: [{
          effect: 'Deny', actions: ['s3:*'], resources: [bucket.arn, `${bucket.arn}/*`], principals: [{ type: '*', identifiers: ['*'] }],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        }],
      }).json,
    })).all).toEqual([]);
  });

  test('passes Google buckets (TLS only by design)', () => {
    expect(findingsFor('DPG-P017', (s) => gcsBucket(s)).all).toEqual([]);
  });

  test('reads the settings from a whole JSON document as well', () => {
    const { stack } = (() => {
      const app = Testing.app();
      const st = new TerraformStack(app, 'doc');
      s3Bucket(st, { policy: false, encryption: false });
      return { stack: st };
    })();
    const ids = evaluateTerraformJson(JSON.parse(Testing.synth(stack))).map((r) => r.ruleId);
    expect(ids).toEqual(['DPG-P016', 'DPG-P017']);
  });
});

/** A stand-in fleet construct: its resources get the fleet's topology as context. */
class FleetScope extends Construct {
  public readonly topology = resolveFleet(ledgerFleet(), 'stack/Ledger', 'ledger').topology;
}

describe("DPG-P019 backup bucket created outside its node groups' region", () => {
  test('flags a fleet bucket whose location or region is another', () => {
    const { errors } = findingsFor('DPG-P019', (s) => {
      const fleet = new FleetScope(s, 'fleet');
      gcsBucket(fleet, { name: 'ledger-backup-europe-west3', location: 'EU' });
      s3Bucket(new Construct(fleet, 'aws'), { name: 'ledger-backup-us-east-1', region: 'us-west-2' });
    });
    expect(errors.sort()).toEqual([
      expect.stringMatching(/bucket ledger-backup-europe-west3 holds backups of euw3 \(europe-west3\) but is created in EU/),
      expect.stringMatching(/bucket ledger-backup-us-east-1 holds backups of use1 \(us-east-1\) but is created in us-west-2/),
    ].sort());
  });

  test("passes the fleet's buckets in their regions, and buckets of no fleet", () => {
    expect(findingsFor('DPG-P019', (s) => {
      const fleet = new FleetScope(s, 'fleet');
      gcsBucket(fleet, { name: 'ledger-backup-europe-west3', location: 'EUROPE-WEST3' });
      s3Bucket(new Construct(fleet, 'aws'), { name: 'ledger-backup-us-east-1', region: 'us-east-1' });
      gcsBucket(s, { name: 'elsewhere', location: 'US' });
    }).all).toEqual([]);
  });
});

function ledger(change: (p: any) => void = () => undefined): Topology {
  const props: any = ledgerFleet();
  change(props);
  return JSON.parse(JSON.stringify(resolveFleet(props, 'stack/Ledger', 'ledger').topology));
}

function findings(ruleId: string, topology: Topology): string[] {
  return evaluateTopology(topology, 'stack/Ledger', TOPOLOGY_RULES.filter((r) => r.id === ruleId)).map((r) => `${r.level}: ${r.message}`);
}

describe("DPG-P018 backups outside their node group's region", () => {
  test('the resolved fleet passes', () => {
    expect(findings('DPG-P018', ledger())).toEqual([]);
  });

  test("a geoshard group's repository in another region's bucket", () => {
    const t: any = ledger();
    const euw1 = t.nodeGroups.find((g: any) => g.name === 'euw1');
    euw1.backup.bucket = 'ledger-backup-us-east-1';
    const shards = t.geoshards.filter((s: any) => s.nodeGroups.includes('euw1')).map((s: any) => `'${s.name}'`);
    expect(shards.length).toBeGreaterThan(0);
    expect(findings('DPG-P018', t)).toEqual([
      `error: node group 'euw1' (aws eu-west-1) backs up to bucket ledger-backup-us-east-1 in aws us-east-1 (rows of geoshard ${shards.join(', ')} would leave its geography)`,
    ]);
  });

  test('a bucket that lists a group of another region, and a bucket that does not exist', () => {
    const t: any = ledger();
    t.backupBuckets.find((b: any) => b.region === 'us-east-1').nodeGroups.push('euw3');
    t.nodeGroups.find((g: any) => g.name === 'use1').backup.bucket = 'nowhere';
    expect(findings('DPG-P018', t)).toEqual([
      "error: node group 'use1' backs up to bucket nowhere, which is not one of the fleet's backup buckets",
      expect.stringMatching(/^error: bucket ledger-backup-us-east-1 \(aws us-east-1\) holds node group 'euw3' of gcp europe-west3/),
    ]);
  });
});

describe('DPG-P020 backups off (a warning)', () => {
  test('quiet when every group backs up', () => {
    expect(findings('DPG-P020', ledger())).toEqual([]);
  });

  test('one warning for a fleet with backups off, one per group otherwise', () => {
    expect(findings('DPG-P020', ledger((p) => { p.backup = { enabled: false }; })))
      .toEqual(["warning: backups are off for the whole fleet 'ledger' (use1, euw1, euw3)"]);
    expect(findings('DPG-P020', ledger((p) => { p.nodeGroups[2].backup = { enabled: false }; })))
      .toEqual(["warning: node group 'euw3' has backups off"]);
  });
});
