/**
 * The fleet's backup bucket in one AWS region (pgBackRest's `repo1-type=s3`): every node group of the region keeps its
 * repository under its own prefix `<fleet>/<group>/`, and only that group's machines may reach it (their role's
 * policy, `AwsGroupIdentity`). The bucket is private (all four public access blocks, bucket-owner-enforced ownership, so
 * no ACL), versioned, encrypted by default with the fleet's KMS key of the region (S3 bucket key on), refuses every
 * request without TLS, and expires old object versions and aborts incomplete multipart uploads. Backups themselves expire
 * by pgBackRest (`repo1-retention-full`), which deletes their files: versioning keeps the deleted files for
 * `NONCURRENT_VERSION_DAYS` more days, so a machine that deletes a repository by mistake (or on purpose) does not
 * destroy it at once.
 */
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { BackupBucket, Topology } from '../../topology/topology';
import { AwsRegionTarget, awsTags, inRegion } from './region';

/** Days a deleted or overwritten backup file stays recoverable (noncurrent versions, then expired). */
export const NONCURRENT_VERSION_DAYS = 30;
/** Days after which an upload pgBackRest started but never completed (a crash mid-file) is aborted. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;

/** The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`): ARNs are written at synth, not looked up. */
export function awsPartitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** `arn:<partition>:s3:::<bucket>` (and `/<key pattern>` for objects). */
export function s3Arn(region: string, bucket: string, keyPattern?: string): string {
  return `arn:${awsPartitionOf(region)}:s3:::${bucket}${keyPattern === undefined ? '' : `/${keyPattern}`}`;
}

/** The bucket policy: every request without TLS is refused, whoever makes it. */
export function tlsOnlyBucketPolicy(region: string, bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [s3Arn(region, bucket), s3Arn(region, bucket, '*')],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }],
  });
}

export interface AwsBackupBucketProps {
  readonly topology: Topology;
  /** The bucket of this region (`topology.backupBuckets`, cloud aws). */
  readonly bucket: BackupBucket;
  readonly target: AwsRegionTarget;
}

export class AwsBackupBucket extends Construct {
  /** The bucket's name (`BackupBucket.name`, what pgBackRest's `repo1-s3-bucket` says). */
  public readonly bucketName: string;
  /** The region. */
  public readonly region: string;
  /** ARN of the KMS key the bucket encrypts with (the declaration's key of the region, or the one created here). */
  public readonly keyArn: string;
  /** What must exist before a machine archives its first WAL segment: the bucket, its encryption and its access rules. */
  public readonly readyAfter: TerraformResource[] = [];

  constructor(scope: Construct, id: string, props: AwsBackupBucketProps) {
    super(scope, id);
    const { topology, bucket: spec, target } = props;
    const fleet = topology.fleetName;
    const where = inRegion(target);
    this.bucketName = spec.name;
    this.region = target.region;

    const declared = topology.encryption?.awsKmsKeys[target.region];
    if (declared !== undefined) {
      this.keyArn = declared;
    } else {
      const keyName = `${fleet}-backup-${target.region}`;
      const key = new KmsKey(this, 'key', {
        ...where,
        description: `${fleet}: backups in ${spec.name} (distributed-postgres)`,
        keyUsage: 'ENCRYPT_DECRYPT',
        customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: awsTags(keyName, fleet),
      });
      new KmsAlias(this, 'key-alias', { ...where, name: `alias/${fleet}-backup`, targetKeyId: key.keyId });
      this.keyArn = key.arn;
    }

    const bucket = new S3Bucket(this, 'bucket', {
      ...where,
      bucket: spec.name,
      // Never emptied by Terraform: destroying the bucket fails while backups are in it.
      forceDestroy: false,
      tags: awsTags(spec.name, fleet),
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access-block', {
      ...where,
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const ownership = new S3BucketOwnershipControls(this, 'ownership', {
      ...where,
      bucket: bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    const versioning = new S3BucketVersioningA(this, 'versioning', {
      ...where,
      bucket: bucket.id,
      versioningConfiguration: { status: 'Enabled' },
    });
    const encryption = new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      ...where,
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: this.keyArn }, bucketKeyEnabled: true }],
    });
    const policy = new S3BucketPolicy(this, 'policy', {
      ...where,
      bucket: bucket.id,
      policy: tlsOnlyBucketPolicy(target.region, spec.name),
      // S3 refuses a policy while a public access block is being written.
      dependsOn: [publicAccess],
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      ...where,
      bucket: bucket.id,
      rule: [{
        id: 'expire-old-versions',
        status: 'Enabled',
        filter: [{ prefix: '' }],
        noncurrentVersionExpiration: [{ noncurrentDays: NONCURRENT_VERSION_DAYS }],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS }],
        // A delete marker left alone once its noncurrent versions expired.
        expiration: [{ expiredObjectDeleteMarker: true }],
      }],
      // A lifecycle configuration on a bucket whose versioning is still being enabled can be refused.
      dependsOn: [versioning],
    });
    this.readyAfter.push(publicAccess, ownership, encryption, policy);
  }
}
