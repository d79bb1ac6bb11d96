/**
 * The fleet's secrets in one AWS region (the machines that read them have a role per node group: `AwsGroupIdentity`).
 *
 * Machines read secrets in their own region (the renderer's AWS backend), so every region holds its own copy: a
 * region keeps booting while another region is down, and each region is managed by its own provider (which may sit in
 * another account). Password values come from the fleet's generated passwords (Terraform expressions, never values).
 */
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { NodeGroup, secretsReadBy, Topology } from '../../topology/topology';
import { AwsRegionTarget, awsTags, inRegion } from './region';

export interface AwsFleetSecretsProps {
  readonly topology: Topology;
  readonly target: AwsRegionTarget;
  /**
   * Terraform expressions of the generated values, by secret name. Secrets without an entry (the TLS CA when an operator
   * makes it, `TlsCa.OPERATOR_FILLED`) are created empty: the operator fills them (`bin/fill-tls-ca`).
   */
  readonly generatedValues: Record<string, string>;
  /**
   * Mesh documents of the node groups in this region (name to stored value, see `meshDocument`): stored next to the
   * secrets and readable by the same machines; Terraform updates them when the declaration changes.
   * @default - none
   */
  readonly meshDocuments?: Record<string, string>;
  /**
   * Scripts documents of the node groups in this region (name to stored value, see `scriptsDocumentOf`): the boot
   * scripts their machines' user-data pins and fetches at first boot; stored next to the secrets, readable by the
   * same machines.
   * @default - none
   */
  readonly scriptsDocuments?: Record<string, string>;
}

/** What one node group's machines read in their region: the secrets, and the versions that hold their values. */
export interface AwsGroupSecrets {
  readonly secrets: SecretsmanagerSecret[];
  /** What the group's machines need before they boot: those secrets' values (they retry, but not forever). */
  readonly readableAfter: TerraformResource[];
}

export class AwsFleetSecrets extends Construct {
  /** Every secret and document of the region, in creation order. */
  public readonly secrets: SecretsmanagerSecret[];
  /** The region's customer-managed key of the secrets (absent: Secrets Manager's default key). */
  public readonly keyArn?: string;
  /** Each secret's name, and its version when Terraform writes its value. */
  private readonly named: { readonly name: string; readonly secret: SecretsmanagerSecret; readonly version?: TerraformResource }[] = [];
  private readonly topology: Topology;

  constructor(scope: Construct, id: string, props: AwsFleetSecretsProps) {
    super(scope, id);
    const { topology, target, generatedValues } = props;
    const fleet = topology.fleetName;
    const where = inRegion(target);
    // The region's customer-managed key, when the declaration names one (else Secrets Manager's default, aws/secretsmanager).
    const keyArn = topology.encryption?.awsKmsKeys[target.region];
    this.keyArn = keyArn;
    const kmsKey = keyArn === undefined ? {} : { kmsKeyId: keyArn };
    this.topology = topology;
    this.secrets = topology.secrets.all.map((name) => {
      const secret = new SecretsmanagerSecret(this, name, {
        ...where,
        name,
        description: `${fleet}: read at boot by the fleet's database machines (distributed-postgres)`,
        ...kmsKey,
        tags: awsTags(name, fleet),
      });
      const value = generatedValues[name];
      const version = value === undefined ? undefined
        : new SecretsmanagerSecretVersion(this, `${name}-value`, { ...where, secretId: secret.id, secretString: value });
      this.named.push({ name, secret, version });
      return secret;
    });
    const documents = [
      ...Object.entries(props.meshDocuments ?? {}).map(([name, value]) => ({ name, value, what: "a node group's mesh document, followed by its machines" })),
      ...Object.entries(props.scriptsDocuments ?? {}).map(([name, value]) => ({ name, value, what: "a node group's boot scripts, fetched by its new machines" })),
    ].sort((a, b) => a.name.localeCompare(b.name));
    for (const { name, value, what } of documents) {
      const document = new SecretsmanagerSecret(this, name, {
        ...where,
        name,
        description: `${fleet}: ${what} (distributed-postgres); no secret in it`,
        ...kmsKey,
        tags: awsTags(name, fleet),
      });
      this.secrets.push(document);
      const version = new SecretsmanagerSecretVersion(this, `${name}-value`, { ...where, secretId: document.id, secretString: value });
      this.named.push({ name, secret: document, version });
    }
  }

  /**
   * The fleet's secrets and `group`'s own mesh and scripts documents: all that its machines read (a machine never
   * reads another group's documents, so a role's policy and a machine's dependencies do not grow with the fleet).
   */
  public readableBy(group: NodeGroup): AwsGroupSecrets {
    const read = secretsReadBy(this.topology, group);
    const own = this.named.filter((n) => read.has(n.name));
    return { secrets: own.map((n) => n.secret), readableAfter: own.flatMap((n) => n.version ?? []) };
  }
}
