/**
 * The fleet's secrets in Google Secret Manager (automatic replication). Each node group's machines run as the group's
 * own service account (`GcpGroupIdentity`), which is granted reading the fleet's secrets and its own group's two
 * documents (`readableBy`), and nothing at project level: a machine never reads another group's documents, so the
 * grants grow with the fleet, not with its square.
 */
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { NodeGroup, secretsReadBy, Topology } from '../../topology/topology';

export interface GcpFleetSecretsProps {
  readonly topology: Topology;
  readonly provider: GoogleProvider;
  /** Terraform expressions of the generated values, by secret name (an operator-filled TLS CA has none: `bin/fill-tls-ca`). */
  readonly generatedValues: Record<string, string>;
  /**
   * Mesh documents of the GCP node groups (name to stored value, see `meshDocument`): readable by the same service
   * account; Terraform updates them when the declaration changes.
   * @default - none
   */
  readonly meshDocuments?: Record<string, string>;
  /**
   * Scripts documents of the GCP node groups (name to stored value, see `scriptsDocumentOf`): the boot scripts their
   * machines' user-data pins and fetches at first boot; readable by the same service account.
   * @default - none
   */
  readonly scriptsDocuments?: Record<string, string>;
}

/** What one node group's machines read: the secrets with their names, and the versions that hold their values. */
export interface GcpGroupSecrets {
  readonly secrets: { readonly name: string; readonly secret: SecretManagerSecret }[];
  /** What the group's machines need before they boot: those secrets' values. */
  readonly readableAfter: TerraformResource[];
}

export class GcpFleetSecrets extends Construct {
  /** Every secret and document with its name, in creation order. */
  public readonly secrets: { readonly name: string; readonly secret: SecretManagerSecret }[] = [];
  private readonly topology: Topology;
  private readonly versions = new Map<string, TerraformResource>();

  constructor(scope: Construct, id: string, props: GcpFleetSecretsProps) {
    super(scope, id);
    const { topology, provider, generatedValues } = props;
    const fleet = topology.fleetName;
    const documents = { ...props.meshDocuments, ...props.scriptsDocuments };
    const secretsKey = topology.encryption?.gcpSecretsKmsKeyName;
    this.topology = topology;
    for (const name of [...topology.secrets.all, ...Object.keys(documents).sort()]) {
      const secret = new SecretManagerSecret(this, name, {
        provider,
        secretId: name,
        replication: { auto: secretsKey === undefined ? {} : { customerManagedEncryption: { kmsKeyName: secretsKey } } },
        labels: { 'distributed-postgres-fleet': fleet },
      });
      this.secrets.push({ name, secret });
      const value = generatedValues[name] ?? documents[name];
      if (value !== undefined) {
        const version = new SecretManagerSecretVersion(this, `${name}-value`, { provider, secret: secret.id, secretData: value });
        this.versions.set(name, version);
      }
    }
  }

  /** The fleet's secrets and `group`'s own mesh and scripts documents: all that its machines read, in creation order. */
  public readableBy(group: NodeGroup): GcpGroupSecrets {
    const read = secretsReadBy(this.topology, group);
    const secrets = this.secrets.filter((s) => read.has(s.name));
    return { secrets, readableAfter: secrets.flatMap((s) => this.versions.get(s.name) ?? []) };
  }
}
