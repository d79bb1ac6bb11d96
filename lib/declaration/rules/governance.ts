/** The company's tags, labels, IAM boundary and path, and extra security groups: what each cloud accepts. */
import { Cloud } from '../props';
import { Finding } from '../spec';
import { finding, Rule } from './rule';

/** The construct's own tags and labels (the user's may not replace them: inventory tools and the rehearsal read them). */
const OWN_AWS_TAG = /^(Name|distributed-postgres:.*)$/;
const OWN_GCP_LABEL = /^(name|distributed-postgres-.*)$/;
const AWS_TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const GCP_LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const GCP_LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
const IAM_POLICY_ARN = /^arn:aws(-[a-z]+)*:iam::(\d{12}|aws):policy\/[A-Za-z0-9+=,.@_/-]{1,512}$/;
const IAM_PATH = /^\/([A-Za-z0-9+=,.@_-]+\/)*$/;
const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;
const MAX_AWS_TAGS = 40;
const MAX_GCP_LABELS = 50;
const MAX_EXTRA_SECURITY_GROUPS = 4;

export const GOVERNANCE: Rule = {
  id: 'DPG-GOVERNANCE',
  description: "The company's tags, labels, IAM permissions boundary and path, and extra security groups are ones the clouds accept.",
  check: (spec) => {
    const out: Finding[] = [];
    const { awsTags, gcpLabels, permissionsBoundaryArn, iamPath } = spec.governance;
    const tagKeys = Object.keys(awsTags);
    if (tagKeys.length > MAX_AWS_TAGS) {
      out.push(finding('DPG-GOVERNANCE', 'governance.awsTags', `${tagKeys.length} tags: AWS takes 50 per resource and the construct sets up to 10. Fix: at most ${MAX_AWS_TAGS}, or set the others as the provider's defaultTags.`));
    }
    for (const [key, value] of Object.entries(awsTags)) {
      const path = `governance.awsTags.${key}`;
      if (key.length < 1 || key.length > 128 || !AWS_TAG_TEXT.test(key)) {
        out.push(finding('DPG-GOVERNANCE', path, "is not an AWS tag key (1-128 letters, digits, spaces and _ . : / = + - @). Fix: rename it."));
      } else if (key.toLowerCase().startsWith('aws:')) {
        out.push(finding('DPG-GOVERNANCE', path, "keys starting with 'aws:' are reserved by AWS. Fix: choose another prefix, e.g. 'company:'."));
      } else if (OWN_AWS_TAG.test(key)) {
        out.push(finding('DPG-GOVERNANCE', path, "is a tag the construct sets itself (Name and distributed-postgres:*). Fix: choose another key."));
      }
      if (value.length > 256 || !AWS_TAG_TEXT.test(value)) {
        out.push(finding('DPG-GOVERNANCE', path, `the value ${JSON.stringify(value.slice(0, 40))} is not an AWS tag value (at most 256 letters, digits, spaces and _ . : / = + - @). Fix: shorten or simplify it.`));
      }
    }
    const labelKeys = Object.keys(gcpLabels);
    if (labelKeys.length > MAX_GCP_LABELS) {
      out.push(finding('DPG-GOVERNANCE', 'governance.gcpLabels', `${labelKeys.length} labels: GCP takes 64 per resource and the construct sets up to 8. Fix: at most ${MAX_GCP_LABELS}.`));
    }
    for (const [key, value] of Object.entries(gcpLabels)) {
      const path = `governance.gcpLabels.${key}`;
      if (!GCP_LABEL_KEY.test(key)) {
        out.push(finding('DPG-GOVERNANCE', path, 'is not a GCP label key (1-63 lower-case letters, digits, _ and -, starting with a letter). Fix: e.g. cost-center.'));
      } else if (OWN_GCP_LABEL.test(key)) {
        out.push(finding('DPG-GOVERNANCE', path, 'is a label the construct sets itself (name and distributed-postgres-*). Fix: choose another key.'));
      }
      if (!GCP_LABEL_VALUE.test(value)) {
        out.push(finding('DPG-GOVERNANCE', path, `the value ${JSON.stringify(value.slice(0, 40))} is not a GCP label value (at most 63 lower-case letters, digits, _ and -). Fix: e.g. ${JSON.stringify(value.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 63))}.`));
      }
    }
    if (permissionsBoundaryArn !== undefined && !IAM_POLICY_ARN.test(permissionsBoundaryArn)) {
      out.push(finding('DPG-GOVERNANCE', 'governance.permissionsBoundaryArn', `${JSON.stringify(permissionsBoundaryArn)} is not the ARN of an IAM policy. Fix: e.g. arn:aws:iam::123456789012:policy/platform-boundary.`));
    }
    if (iamPath.length > 512 || !IAM_PATH.test(iamPath)) {
      out.push(finding('DPG-GOVERNANCE', 'governance.iamPath', `${JSON.stringify(iamPath)} is not an IAM path (it starts and ends with '/', e.g. /platform/databases/). Fix: use such a path, or leave it out for '/'.`));
    }
    for (const g of spec.nodeGroups) {
      const ids = g.extraSecurityGroupIds;
      if (ids.length === 0) continue;
      const path = `${g.path}.extraSecurityGroupIds`;
      if (g.cloud !== Cloud.AWS) {
        out.push(finding('DPG-GOVERNANCE', path, 'security groups are AWS\'s; a GCP node group uses firewall rules on its network tag. Fix: remove them from this group.'));
        continue;
      }
      if (ids.length > MAX_EXTRA_SECURITY_GROUPS) {
        out.push(finding('DPG-GOVERNANCE', path, `${ids.length} extra security groups: a network interface takes 5 and the group has its own. Fix: at most ${MAX_EXTRA_SECURITY_GROUPS}.`));
      }
      ids.forEach((id, i) => {
        if (!SECURITY_GROUP_ID.test(id)) out.push(finding('DPG-GOVERNANCE', `${path}[${i}]`, `${JSON.stringify(id)} is not a security group id. Fix: e.g. sg-0123456789abcdef0.`));
      });
      if (new Set(ids).size !== ids.length) out.push(finding('DPG-GOVERNANCE', path, 'lists a security group twice. Fix: list each once.'));
    }
    return out;
  },
};
