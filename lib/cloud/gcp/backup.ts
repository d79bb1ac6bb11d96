/**
 * The fleet's backup bucket in one GCP region (pgBackRest's `repo1-type=gcs`): every node group of the region keeps its
 * repository under its own prefix `<fleet>/<group>/`. The bucket is private (uniform bucket-level access, so no ACL;
 * public access prevention enforced), lives in the region itself (`location`), is versioned, deletes noncurrent
 * versions after `NONCURRENT_VERSION_DAYS` days and encrypts with the fleet's Cloud KMS key of the region when the
 * declaration names one (`encryption.gcpDiskKmsKeys`; the key owner lets the project's Cloud Storage service agent use
 * it), else with Google-managed keys. Cloud Storage serves its APIs over TLS only, so there is no policy to write for
 * that (unlike S3).
 *
 * Only the group's machines reach the group's prefix: a managed folder per group (`GcpGroupIdentity`) carries the
 * group's service account's role. A bucket-level binding with an IAM condition on `resource.name` would not do:
 * listing is checked on the bucket, where such a condition cannot see the prefix, so it would either refuse pgBackRest's
 * listings or allow listing every group's files. A managed folder's IAM applies to every object under its name,
 * listings with a prefix inside it included.
 */
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { Construct } from 'constructs';
import { BackupBucket, Topology } from '../../topology/topology';
import { NONCURRENT_VERSION_DAYS } from '../aws/backup';

/** Days an incomplete XML API multipart upload is kept (pgBackRest uses resumable uploads, which expire by themselves). */
const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;

export interface GcpBackupBucketProps {
  readonly topology: Topology;
  /** The bucket of this region (`topology.backupBuckets`, cloud gcp). */
  readonly bucket: BackupBucket;
  readonly provider: GoogleProvider;
}

export class GcpBackupBucket extends Construct {
  public readonly bucket: StorageBucket;
  /** The bucket's name (`BackupBucket.name`, what pgBackRest's `repo1-gcs-bucket` says). */
  public readonly bucketName: string;
  public readonly region: string;

  constructor(scope: Construct, id: string, props: GcpBackupBucketProps) {
    super(scope, id);
    const { topology, bucket: spec, provider } = props;
    const fleet = topology.fleetName;
    this.bucketName = spec.name;
    this.region = spec.region;
    const key = topology.encryption?.gcpDiskKmsKeys[spec.region];
    this.bucket = new StorageBucket(this, 'bucket', {
      provider,
      name: spec.name,
      // Cloud Storage reports a region in upper case; written so, the plan shows no difference.
      location: spec.region.toUpperCase(),
      storageClass: 'STANDARD',
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      versioning: { enabled: true },
      // Never emptied by Terraform: destroying the bucket fails while backups are in it.
      forceDestroy: false,
      ...(key === undefined ? {} : { encryption: { defaultKmsKeyName: key } }),
      lifecycleRule: [
        { action: { type: 'Delete' }, condition: { daysSinceNoncurrentTime: NONCURRENT_VERSION_DAYS, withState: 'ARCHIVED' } },
        { action: { type: 'AbortIncompleteMultipartUpload' }, condition: { age: ABORT_INCOMPLETE_UPLOAD_DAYS } },
      ],
      labels: { name: spec.name, 'distributed-postgres-fleet': fleet },
    });
  }
}
