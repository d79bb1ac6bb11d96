/**
 * Official images by their publishers' AWS accounts. The AMI is looked up at plan time; instances ignore later AMI
 * changes (a new image must never plan to replace a database machine).
 */
import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami';
import { createHash } from 'crypto';
import { Construct } from 'constructs';
import { ImageName, MachineImageRef } from '../../topology/topology';
import { AwsRegionTarget, inRegion } from './region';

export type CpuArchitecture = 'x86_64' | 'arm64';

const PUBLISHERS: Record<ImageName, { owner: string; name: (arch: CpuArchitecture) => string }> = {
  // Canonical
  'ubuntu-24.04': { owner: '099720109477', name: (arch) => `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${arch === 'arm64' ? 'arm64' : 'amd64'}-server-*` },
  // Debian (the Debian cloud team's account)
  'debian-12': { owner: '136693071363', name: (arch) => `debian-12-${arch === 'arm64' ? 'arm64' : 'amd64'}-*` },
  'debian-13': { owner: '136693071363', name: (arch) => `debian-13-${arch === 'arm64' ? 'arm64' : 'amd64'}-*` },
};

/**
 * The AMI id a node group's machines boot: the declared machine image (an id, or the most recent AMI of an owner by
 * name pattern, looked up once per region, pattern and architecture), else the official image of the flavour.
 */
export function amiOf(scope: Construct, target: AwsRegionTarget, image: ImageName, machineImage: MachineImageRef | undefined,
  arch: CpuArchitecture): string {
  if (machineImage?.kind === 'aws-ami-id' && machineImage.amiId) return machineImage.amiId;
  if (machineImage?.kind === 'aws-ami-lookup' && machineImage.owner && machineImage.namePattern) {
    return customAmiLookup(scope, target, machineImage.owner, machineImage.namePattern, arch).id;
  }
  if (machineImage) {
    throw new Error(`AwsNodeGroup: machine image ${JSON.stringify(machineImage)} is not an AWS image; use MachineImage.awsAmiId or MachineImage.awsAmiLookup`);
  }
  return amiLookup(scope, target, image, arch).id;
}

/** The most recent AMI of `owner` named like `namePattern` (a golden image), shared by every machine that uses it. */
export function customAmiLookup(scope: Construct, target: AwsRegionTarget, owner: string, namePattern: string, arch: CpuArchitecture): DataAwsAmi {
  const digest = createHash('sha256').update(`${owner}\n${namePattern}`).digest('hex').slice(0, 8);
  const id = `ami-custom-${digest}-${arch}`;
  const existing = scope.node.tryFindChild(id);
  if (existing) return existing as DataAwsAmi;
  return new DataAwsAmi(scope, id, {
    ...inRegion(target),
    owners: [owner],
    mostRecent: true,
    filter: [
      { name: 'name', values: [namePattern] },
      { name: 'architecture', values: [arch] },
    ],
  });
}

/** Graviton instance families carry a `g` after the generation digit (`m7g.large`, `c6gd.xlarge`, `t4g.small`). */
export function awsArchitectureOf(instanceType: string): CpuArchitecture {
  return /^[a-z]+\d+g[a-z-]*\./.test(instanceType) ? 'arm64' : 'x86_64';
}

/** The AMI lookup of an image and architecture in a region, shared by every machine that uses it. */
export function amiLookup(scope: Construct, target: AwsRegionTarget, image: ImageName, arch: CpuArchitecture): DataAwsAmi {
  const id = `ami-${image}-${arch}`;
  const existing = scope.node.tryFindChild(id);
  if (existing) return existing as DataAwsAmi;
  const publisher = PUBLISHERS[image];
  return new DataAwsAmi(scope, id, {
    ...inRegion(target),
    owners: [publisher.owner],
    mostRecent: true,
    filter: [
      { name: 'name', values: [publisher.name(arch)] },
      { name: 'architecture', values: [arch] },
      { name: 'virtualization-type', values: ['hvm'] },
      { name: 'root-device-type', values: ['ebs'] },
    ],
  });
}
