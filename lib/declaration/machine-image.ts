/**
 * The machine image a node group boots when it is not the official image of its `ImageFlavour`: a golden image a
 * platform team bakes (Packer) with PostgreSQL, Patroni, etcd and the replication extension already installed.
 *
 * A class with static factories (jsii-friendly: no unions in props). The factories never throw: the declaration's
 * rules check the values, so every problem of a declaration is reported together at synth.
 */
import { Cloud } from './props';

/** How a `MachineImage` names its image. */
export enum MachineImageKind {
  /** One AMI by id (`ami-...`), in every region of the node group's cloud that uses it. */
  AWS_AMI_ID = 'aws-ami-id',
  /** The most recent AMI of an owner whose name matches a pattern, looked up at plan time in the group's region. */
  AWS_AMI_LOOKUP = 'aws-ami-lookup',
  /** A Google Compute Engine image or image family. */
  GCP_IMAGE = 'gcp-image',
}

/** A machine image for a node group's machines (see `NodeGroupProps.machineImage`). */
export class MachineImage {
  /**
   * One AMI by id. AMIs are regional: an id names an image in one region, so use it for node groups in that region
   * (or an `awsAmiLookup` for several regions). Its CPU architecture must match the group's machine types (and the
   * dedicated etcd machines' type).
   * @param amiId the AMI id, e.g. `ami-0123456789abcdef0`
   */
  public static awsAmiId(amiId: string): MachineImage {
    return new MachineImage(MachineImageKind.AWS_AMI_ID, Cloud.AWS, { amiId });
  }

  /**
   * The most recent AMI of `owner` whose name matches `namePattern` (a `data "aws_ami"` with `most_recent`), looked
   * up at plan time in each region that uses it, for the machines' CPU architecture. A Packer build that publishes
   * `dpg-spock-pg15-<timestamp>` in the account is found with `awsAmiLookup('self', 'dpg-spock-pg15-*')`.
   * @param owner an AWS account id (12 digits), `self`, `amazon` or `aws-marketplace`
   * @param namePattern the AMI name, `*` and `?` as wildcards, e.g. `dpg-spock-pg15-*`
   */
  public static awsAmiLookup(owner: string, namePattern: string): MachineImage {
    return new MachineImage(MachineImageKind.AWS_AMI_LOOKUP, Cloud.AWS, { owner, namePattern });
  }

  /**
   * A Google Compute Engine image: `projects/<project>/global/images/<name>`, an image family
   * `projects/<project>/global/images/family/<family>`, or a bare image or family name in the provider's project.
   * The image must run cloud-init (Debian's own GCE images do not; a baked image may).
   * @param image the image or family
   */
  public static gcpImage(image: string): MachineImage {
    return new MachineImage(MachineImageKind.GCP_IMAGE, Cloud.GCP, { gcpImageName: image });
  }

  /** How the image is named. */
  public readonly kind: MachineImageKind;
  /** The cloud whose image this is. */
  public readonly cloud: Cloud;
  /** The AMI id (`AWS_AMI_ID`). */
  public readonly amiId?: string;
  /** The AMI owner (`AWS_AMI_LOOKUP`). */
  public readonly owner?: string;
  /** The AMI name pattern (`AWS_AMI_LOOKUP`). */
  public readonly namePattern?: string;
  /** The GCE image or family (`GCP_IMAGE`). */
  public readonly gcpImageName?: string;

  private constructor(kind: MachineImageKind, cloud: Cloud, fields: { amiId?: string; owner?: string; namePattern?: string; gcpImageName?: string }) {
    this.kind = kind;
    this.cloud = cloud;
    this.amiId = fields.amiId;
    this.owner = fields.owner;
    this.namePattern = fields.namePattern;
    this.gcpImageName = fields.gcpImageName;
  }
}
