/**
 * The identity of one node group's AWS machines: an IAM role and instance profile of the group alone, so that what
 * its machines may reach is exactly what that group needs. They read the fleet's secrets of their region (the
 * passwords and the TLS CA, as every machine of the region does) and their own group's mesh and scripts documents, and reach their own repository in the
 * region's backup bucket, the prefix `<fleet>/<group>/`, and nothing else: no other group's backups, even in the same
 * bucket. A role shared by the region's groups could not say that (IAM has no condition on "the caller's node group").
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { NodeGroup, Topology } from '../../topology/topology';
import { AwsBackupBucket, s3Arn } from './backup';
import { AwsRegionTarget, awsTags } from './region';
import { AwsFleetSecrets } from './secrets';

/** The S3 key prefix of a group's repository, without slashes around it: `GroupBackup.path` is `/<fleet>/<group>`. */
export function repositoryKeyPrefix(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

export interface AwsGroupIdentityProps {
  readonly topology: Topology;
  readonly group: NodeGroup;
  readonly target: AwsRegionTarget;
  /** The fleet's secrets of the group's region. */
  readonly secrets: AwsFleetSecrets;
  /** The backup bucket of the group's region (absent when the group's backups are off). */
  readonly backupBucket?: AwsBackupBucket;
}

export class AwsGroupIdentity extends Construct {
  /** The instance profile of the group's machines. */
  public readonly instanceProfile: IamInstanceProfile;
  /** What a machine needs before it boots: its permissions (it retries, but not forever). */
  public readonly readableAfter: TerraformResource[] = [];

  constructor(scope: Construct, id: string, props: AwsGroupIdentityProps) {
    super(scope, id);
    const { topology, group, target, secrets } = props;
    const fleet = topology.fleetName;
    const governance = topology.governance;
    // `<fleet>-<group>-db`: at most 16 + 1 + 20 + 3 characters (IAM allows 64); never the old regional `<fleet>-db-<region>`.
    const roleName = `${group.patroniScope}-db`;
    const tags = awsTags(roleName, fleet, group.name);
    const assume = new DataAwsIamPolicyDocument(this, 'assume-role', {
      provider: target.provider,
      statement: [{ actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }] }],
    });
    const backup = group.backup && props.backupBucket;
    const restore = group.restore && props.backupBucket;
    const role = new IamRole(this, 'role', {
      provider: target.provider,
      name: roleName,
      ...(governance ? { path: governance.iamPath } : {}),
      ...(governance?.permissionsBoundaryArn ? { permissionsBoundary: governance.permissionsBoundaryArn } : {}),
      description: `${fleet} node group ${group.name} (${target.region}): read the fleet's secrets` +
        `${backup ? `, its own backups under ${repositoryKeyPrefix(group.backup!.path)}/` : ''}` +
        `${restore ? `, read node group ${group.restore!.sourceGroup}'s backups under ${repositoryKeyPrefix(group.restore!.path)}/` : ''}; nothing else`,
      assumeRolePolicy: assume.json,
      tags,
    });
    const readSecrets = new DataAwsIamPolicyDocument(this, 'read-secrets', {
      provider: target.provider,
      statement: [
        { sid: 'ReadFleetSecrets', actions: ['secretsmanager:GetSecretValue'], resources: secrets.readableBy(group).secrets.map((s) => s.arn) },
        // A customer-managed key: decrypting those secrets needs the key too, and only through Secrets Manager.
        ...(secrets.keyArn === undefined ? [] : [{
          sid: 'DecryptFleetSecrets',
          actions: ['kms:Decrypt'],
          resources: [secrets.keyArn],
          condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`secretsmanager.${target.region}.amazonaws.com`] }],
        }]),
      ],
    });
    this.readableAfter.push(new IamRolePolicy(this, 'read-secrets-policy', { provider: target.provider, name: 'read-fleet-secrets', role: role.id, policy: readSecrets.json }));

    if (backup) {
      // What pgBackRest's S3 driver (src/storage/s3) sends: ListObjectsV2 with prefix and delimiter (and ListObjectVersions
      // for a restore with --repo-target-time), HEAD and GET (of a version too), PUT and the multipart upload
      // (CreateMultipartUpload, UploadPart, CompleteMultipartUpload: all s3:PutObject), DELETE and the multi-object
      // delete (s3:DeleteObject for each key). No s3:DeleteObjectVersion: a machine cannot destroy old versions, which
      // the bucket's lifecycle expires. It never aborts an upload (the lifecycle does), nor reads the bucket's settings.
      const access = repositoryAccess(this, 'backup-access', target, props.backupBucket!, repositoryKeyPrefix(group.backup!.path), true);
      this.readableAfter.push(new IamRolePolicy(this, 'backup-policy', { provider: target.provider, name: 'own-backup-repository', role: role.id, policy: access.json }));
      this.readableAfter.push(...props.backupBucket!.readyAfter);
    }

    if (restore) {
      // A restored group (restoreFrom) reads its source's repository and nothing else: it lists and gets (a version
      // too: pgBackRest's restore with --repo-target-time), and decrypts through S3. No PutObject, no DeleteObject: it
      // can never write a timeline into, expire or delete the source's backups.
      const read = repositoryAccess(this, 'restore-access', target, props.backupBucket!, repositoryKeyPrefix(group.restore!.path), false);
      this.readableAfter.push(new IamRolePolicy(this, 'restore-policy', { provider: target.provider, name: 'read-source-backup-repository', role: role.id, policy: read.json }));
      this.readableAfter.push(...props.backupBucket!.readyAfter);
    }

    this.instanceProfile = new IamInstanceProfile(this, 'instance-profile', {
      provider: target.provider,
      name: roleName,
      ...(governance ? { path: governance.iamPath } : {}),
      role: role.name,
      tags,
    });
  }
}

/**
 * A policy document reaching one pgBackRest repository, the prefix `<prefix>/` of the region's backup bucket: read and
 * write for the group's own repository, read only for a restored group's source. S3 encrypts and decrypts with the
 * bucket's key on the machine's behalf (SSE-KMS, bucket key on: the encryption context is the bucket's ARN; an
 * object's without the bucket key), so the key is usable through S3 only.
 */
function repositoryAccess(scope: Construct, id: string, target: AwsRegionTarget, bucket: AwsBackupBucket, prefix: string,
  writable: boolean): DataAwsIamPolicyDocument {
  const bucketArn = s3Arn(target.region, bucket.bucketName);
  const objects = s3Arn(target.region, bucket.bucketName, `${prefix}/*`);
  const whose = writable ? 'Own' : 'Source';
  return new DataAwsIamPolicyDocument(scope, id, {
    provider: target.provider,
    statement: [
      {
        sid: `List${whose}Repository`,
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [bucketArn],
        condition: [{ test: 'StringLike', variable: 's3:prefix', values: [`${prefix}/*`] }],
      },
      {
        sid: writable ? 'ReadWriteOwnRepository' : 'ReadSourceRepository',
        actions: writable ? ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject'] : ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [objects],
      },
      {
        sid: writable ? 'UseBackupKeyThroughS3' : 'DecryptBackupKeyThroughS3',
        actions: writable ? ['kms:GenerateDataKey', 'kms:Decrypt'] : ['kms:Decrypt'],
        resources: [bucket.keyArn],
        condition: [
          { test: 'StringEquals', variable: 'kms:ViaService', values: [`s3.${target.region}.amazonaws.com`] },
          { test: 'StringLike', variable: 'kms:EncryptionContext:aws:s3:arn', values: [bucketArn, objects] },
        ],
      },
    ],
  });
}
