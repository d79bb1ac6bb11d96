/** Where and on what the members run: regions and zones, images, member counts, machine types and disks. */
import { MachineImageKind } from '../machine-image';
import { Cloud, ImageFlavour, PackageSource } from '../props';
import { knownRegions, zonesOf } from '../regions';
import { Finding } from '../spec';
import { MAX_MEMBERS, MAX_ZONES, PATTERNS } from './limits';
import { duplicates, finding, isInt, Rule } from './rule';

export const REGIONS: Rule = {
  id: 'DPG-REGION',
  description: 'Regions exist in the cloud; zones belong to the region, are distinct, and there are enough of them.',
  check: (spec) => spec.nodeGroups.flatMap((g) => {
    const known = zonesOf(g.cloud, g.region);
    if (!known) {
      const list = knownRegions(g.cloud);
      const hint = list.filter((r) => r.split('-')[0] === g.region.split('-')[0]).slice(0, 6);
      return [finding('DPG-REGION', `${g.path}.region`, `'${g.region}' is not ${g.cloud === Cloud.AWS ? 'an AWS' : 'a GCP'} region this library knows. ` +
        `Fix: use one of ${(hint.length ? hint : list.slice(0, 6)).join(', ')}${list.length > 6 ? ', ...' : ''}.`)];
    }
    const out: Finding[] = [];
    if (g.zones.length === 0) {
      out.push(finding('DPG-REGION', `${g.path}.zones`, 'is empty. Fix: list at least one zone, or leave zones out for the region\'s first three.'));
    }
    if (g.zones.length > MAX_ZONES) {
      out.push(finding('DPG-REGION', `${g.path}.zones`, `lists ${g.zones.length} zones; at most ${MAX_ZONES} are supported. Fix: list fewer zones.`));
    }
    for (const z of g.zones.filter((zone) => !known.includes(zone))) {
      out.push(finding('DPG-REGION', `${g.path}.zones`, `'${z}' is not a zone of ${g.region}. Fix: use zones of ${g.region}: ${known.join(', ')}.`));
    }
    for (const d of duplicates(g.zones)) {
      out.push(finding('DPG-REGION', `${g.path}.zones`, `zone '${d}' is listed twice. Fix: list each zone once.`));
    }
    return out;
  }),
};

export const IMAGES: Rule = {
  id: 'DPG-IMAGE',
  description: 'GCP node groups use an image that runs cloud-init.',
  check: (spec) => spec.nodeGroups
    // A golden image (machineImage) is the platform team's own build, with cloud-init installed whatever its base.
    .filter((g) => g.cloud === Cloud.GCP && g.image !== ImageFlavour.UBUNTU_24_04 && g.machineImage === undefined)
    .map((g) => finding('DPG-IMAGE', `${g.path}.image`, `Debian ${g.image.replace('debian-', '')} images on GCP do not run cloud-init, so the member would never configure itself. ` +
      "Fix: use image 'ubuntu-24.04' on GCP, or a machineImage (MachineImage.gcpImage) built on Debian with cloud-init installed.")),
};

const CLOUD_NAMES: Record<Cloud, string> = { [Cloud.AWS]: 'AWS', [Cloud.GCP]: 'GCP' };

export const MACHINE_IMAGES: Rule = {
  id: 'DPG-MACHINE-IMAGE',
  description: "Golden images: packageSource 'image' has a machine image on every node group, each of the group's cloud, well formed; binDir is an absolute path.",
  check: (spec) => {
    const out: Finding[] = [];
    const golden = spec.postgres.packageSource === PackageSource.IMAGE;
    for (const g of spec.nodeGroups) {
      const path = `${g.path}.machineImage`;
      const m = g.machineImage;
      if (m === undefined) {
        if (golden) {
          out.push(finding('DPG-MACHINE-IMAGE', path, "is missing: postgres.packageSource 'image' installs nothing at boot, so every node group must boot a golden image " +
            'that already holds PostgreSQL, Patroni, etcd and the engine\'s extension (and, with monitoring on, prometheus-postgres-exporter and prometheus-node-exporter). ' +
            `Fix: set machineImage, e.g. ${g.cloud === Cloud.AWS ? "MachineImage.awsAmiLookup('self', 'dpg-pg17-*')" : "MachineImage.gcpImage('projects/my-project/global/images/family/dpg-pg17')"}, or use another packageSource.`));
        }
        continue;
      }
      if (m.cloud !== g.cloud) {
        out.push(finding('DPG-MACHINE-IMAGE', path, `is ${m.cloud === Cloud.AWS ? 'an AWS' : 'a GCP'} image, but node group '${g.name}' runs on ${CLOUD_NAMES[g.cloud]}. ` +
          `Fix: use ${g.cloud === Cloud.AWS ? 'MachineImage.awsAmiId or MachineImage.awsAmiLookup' : 'MachineImage.gcpImage'} for this group.`));
        continue;
      }
      if (m.kind === MachineImageKind.AWS_AMI_ID && !PATTERNS.amiId.test(m.amiId ?? '')) {
        out.push(finding('DPG-MACHINE-IMAGE', path, `'${m.amiId}' is not an AMI id. Fix: give the id as AWS shows it, e.g. 'ami-0123456789abcdef0'.`));
      }
      if (m.kind === MachineImageKind.AWS_AMI_LOOKUP) {
        if (!PATTERNS.amiOwner.test(m.owner ?? '')) {
          out.push(finding('DPG-MACHINE-IMAGE', path, `owner '${m.owner}' is not an AMI owner. Fix: use a 12-digit AWS account id, 'self', 'amazon' or 'aws-marketplace'.`));
        }
        if (!PATTERNS.amiNamePattern.test(m.namePattern ?? '')) {
          out.push(finding('DPG-MACHINE-IMAGE', path, `name pattern '${m.namePattern}' is not an AMI name pattern (1-128 letters, digits, '( ) [ ] . / - @ _', and '*' or '?' as wildcards; no spaces or quotes). ` +
            "Fix: use the name your image build publishes, with a wildcard for its version, e.g. 'dpg-spock-pg15-*'."));
        }
      }
      if (m.kind === MachineImageKind.GCP_IMAGE && !PATTERNS.gcpImage.test(m.gcpImage ?? '')) {
        out.push(finding('DPG-MACHINE-IMAGE', path, `'${m.gcpImage}' is not a GCE image. Fix: use 'projects/<project>/global/images/<image>', ` +
          "'projects/<project>/global/images/family/<family>', or an image or family name of the provider's project."));
      }
    }
    const binDir = spec.postgres.binDir;
    if (binDir !== undefined && (!PATTERNS.binDir.test(binDir) || binDir.split('/').includes('..'))) {
      out.push(finding('DPG-MACHINE-IMAGE', 'postgres.binDir', `'${binDir}' is not an absolute directory path without whitespace, quotes or '..'. ` +
        `Fix: give the directory that holds pg_ctl and psql on the image, e.g. '/usr/lib/postgresql/${spec.postgres.version}/bin', or leave binDir out.`));
    }
    return out;
  },
};

export const MEMBERS: Rule = {
  id: 'DPG-MEMBERS',
  description: 'Member count, machine types and data disks are sane.',
  check: (spec) => spec.nodeGroups.flatMap((g) => {
    const out: Finding[] = [];
    if (!isInt(g.members, 1, MAX_MEMBERS)) {
      out.push(finding('DPG-MEMBERS', `${g.path}.members`, `${g.members} is not a whole number in 1..${MAX_MEMBERS}. Fix: use 3 (a primary and two standbys) unless you have a reason.`));
    }
    if (!PATTERNS.machineType.test(g.machineType)) {
      out.push(finding('DPG-MEMBERS', `${g.path}.machineType`, `'${g.machineType}' is not a machine type name. Fix: use e.g. 'm6i.large' (AWS) or 'n2-standard-2' (GCP).`));
    }
    if (g.etcd.machineType !== undefined && !PATTERNS.machineType.test(g.etcd.machineType)) {
      out.push(finding('DPG-MEMBERS', `${g.path}.etcd.machineType`, `'${g.etcd.machineType}' is not a machine type name. Fix: use e.g. 't3.small' (AWS) or 'e2-small' (GCP).`));
    }
    if (!isInt(g.dataDisk.sizeGiB, 10, 65536)) {
      out.push(finding('DPG-MEMBERS', `${g.path}.dataDisk.sizeGiB`, `${g.dataDisk.sizeGiB} is not a whole number of GiB in 10..65536. Fix: give the data disk size in GiB.`));
    }
    if (!PATTERNS.diskType.test(g.dataDisk.type)) {
      out.push(finding('DPG-MEMBERS', `${g.path}.dataDisk.type`, `'${g.dataDisk.type}' is not a disk type. Fix: use e.g. 'gp3' (AWS) or 'pd-ssd' (GCP).`));
    }
    for (const [key, value] of Object.entries(g.patroniTags)) {
      if (!PATTERNS.tagKey.test(key) || !PATTERNS.tagValue.test(value)) {
        out.push(finding('DPG-MEMBERS', `${g.path}.patroniTags.${key}`, 'Patroni tag keys must be lower-case identifiers and values letters, digits, \'_\', \'.\' or \'-\'. Fix: rename the tag or its value.'));
      }
    }
    return out;
  }),
};
