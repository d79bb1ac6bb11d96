/**
 * The identity of one node group's GCP machines: a service account of the group alone. It may read the fleet's
 * secrets and its own group's mesh and scripts documents (one binding per secret; no other group's documents) and use its own repository, the managed folder
 * `<fleet>/<group>/` of its region's backup bucket (`roles/storage.objectUser` there: list, read, create, overwrite and
 * delete objects under that name, nothing on the bucket itself), and nothing else: no project-level role, no other
 * group's folder. A service account shared by the fleet's groups could not say that.
 */
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageManagedFolder } from '@cdktf/provider-google/lib/storage-managed-folder';
import { StorageManagedFolderIamMember } from '@cdktf/provider-google/lib/storage-managed-folder-iam-member';
import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { NodeGroup, Topology } from '../../topology/topology';
import { boundedName } from '../aws/region';
import { GcpBackupBucket } from './backup';
import { GcpFleetSecrets } from './secrets';

/** The role on a group's managed folder: objects' get, list, create, update, delete (and XML multipart uploads). */
export const REPOSITORY_ROLE = 'roles/storage.objectUser';

/** A restored group's role on its source's managed folder: objects' get and list only. */
export const RESTORE_ROLE = 'roles/storage.objectViewer';

/** A managed folder's name for a repository path: `/<fleet>/<group>` becomes `<fleet>/<group>/`. */
export function managedFolderName(path: string): string {
  return `${path.replace(/^\/+|\/+$/g, '')}/`;
}

export interface GcpGroupIdentityProps {
  readonly topology: Topology;
  readonly group: NodeGroup;
  readonly provider: GoogleProvider;
  readonly secrets: GcpFleetSecrets;
  /** The backup bucket of the group's region (absent when the group's backups are off). */
  readonly backupBucket?: GcpBackupBucket;
}

export class GcpGroupIdentity extends Construct {
  public readonly serviceAccount: ServiceAccount;
  /** What a machine needs before it boots: its permissions and its repository. */
  public readonly readableAfter: TerraformResource[] = [];

  constructor(scope: Construct, id: string, props: GcpGroupIdentityProps) {
    super(scope, id);
    const { topology, group, provider, secrets } = props;
    const fleet = topology.fleetName;
    const backup = group.backup && props.backupBucket;
    const restore = group.restore && props.backupBucket;
    this.serviceAccount = new ServiceAccount(this, 'service-account', {
      provider,
      // 6 to 30 characters: `<fleet>-<group>-db`, shortened with a digest when longer.
      accountId: boundedName(`${group.patroniScope}-db`, 30),
      displayName: `${fleet} node group ${group.name} (distributed-postgres)`,
      description: `Reads the fleet's secrets, its group's documents${backup ? ` and its own backups under ${managedFolderName(group.backup!.path)}` : ''}` +
        `${restore ? ` and node group ${group.restore!.sourceGroup}'s backups under ${managedFolderName(group.restore!.path)}` : ''}; no other permission.`,
    });
    for (const { name, secret } of secrets.readableBy(group).secrets) {
      this.readableAfter.push(new SecretManagerSecretIamMember(this, `read-${name}`, {
        provider,
        secretId: secret.id,
        role: 'roles/secretmanager.secretAccessor',
        member: this.serviceAccount.member,
      }));
    }
    if (restore) {
      // A restored group (restoreFrom) reads its source's managed folder (created with the source's identity, in the
      // same region's bucket): list and get objects, no create, overwrite or delete.
      this.readableAfter.push(new StorageManagedFolderIamMember(this, 'restore-folder-viewer', {
        provider,
        bucket: props.backupBucket!.bucketName,
        managedFolder: managedFolderName(group.restore!.path),
        role: RESTORE_ROLE,
        member: this.serviceAccount.member,
        dependsOn: [props.backupBucket!.bucket],
      }));
    }
    if (backup) {
      const bucket = props.backupBucket!;
      // Names written out (not references), so the JSON says which bucket and folder; the order is explicit instead.
      const folderName = managedFolderName(group.backup!.path);
      const folder = new StorageManagedFolder(this, 'backup-folder', {
        provider,
        bucket: bucket.bucketName,
        name: folderName,
        // Never deleted with objects in it (the group's backups).
        forceDestroy: false,
        dependsOn: [bucket.bucket],
      });
      this.readableAfter.push(folder, new StorageManagedFolderIamMember(this, 'backup-folder-user', {
        provider,
        bucket: bucket.bucketName,
        managedFolder: folderName,
        role: REPOSITORY_ROLE,
        member: this.serviceAccount.member,
        dependsOn: [folder],
      }));
    }
  }
}
