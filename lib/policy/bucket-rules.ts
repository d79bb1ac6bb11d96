/**
 * Rules over object-store buckets (S3 and Cloud Storage): public, unencrypted, reachable without TLS, or, for a fleet's
 * backup bucket, created outside the region of the node groups whose backups it holds. An S3 bucket's settings live in
 * separate Terraform resources (public access block, encryption configuration, policy), so these rules read the other
 * blocks of the stack or document (`relatedTypes`) and match them to the bucket by reference or by name. Pure.
 */
import { IBlockRule, PolicyContext, PolicyFinding, PolicyLevel, TerraformBlock } from './types';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function blocks(value: unknown): Record<string, unknown>[] {
  return (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value])
    .map(record).filter((b): b is Record<string, unknown> => b !== undefined);
}

function strings(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]).map(String);
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function finding(message: string): PolicyFinding {
  return { message };
}

/** True when `value` (a setting's `bucket`) names the bucket block: by reference to it, or by its literal name. */
export function refersToBucket(value: unknown, bucket: TerraformBlock): boolean {
  if (typeof value !== 'string') return false;
  const name = bucket.config.bucket ?? bucket.config.name;
  if (typeof name === 'string' && value === name) return true;
  const address = bucket.address;
  return address !== undefined && new RegExp(`^\\$\\{${address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(id|bucket|name)\\}$`).test(value);
}

/** The related blocks of a type that configure this bucket. */
function settingsOf(bucket: TerraformBlock, context: PolicyContext, type: string): TerraformBlock[] {
  return (context.related ?? []).filter((b) => b.type === type && refersToBucket(b.config.bucket, bucket));
}

/** One IAM statement in a shape common to policy JSON and `aws_iam_policy_document` data sources. */
export interface PolicyStatement {
  readonly effect: string;
  /** Principals, `*` for anyone (`"Principal": "*"` or `{"AWS": "*"}`). */
  readonly principals: string[];
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions: { test: string; variable: string; values: string[] }[];
}

/**
 * The statements of an S3 bucket policy: a JSON text, or a reference to an `aws_iam_policy_document` data source among
 * the related blocks. Undefined when the policy cannot be read (a reference to something else).
 */
export function statementsOf(policy: unknown, context: PolicyContext): PolicyStatement[] | undefined {
  if (typeof policy !== 'string') return undefined;
  const reference = /^\$\{(data\.aws_iam_policy_document\.[^.}]+)\.json\}$/.exec(policy);
  if (reference) {
    const doc = (context.related ?? []).find((b) => b.address === reference[1]);
    if (!doc) return undefined;
    return blocks(doc.config.statement).map((s) => ({
      effect: String(s.effect ?? 'Allow'),
      principals: blocks(s.principals).flatMap((p) => (p.type === '*' ? ['*'] : strings(p.identifiers))),
      actions: strings(s.actions),
      resources: strings(s.resources),
      conditions: blocks(s.condition).map((c) => ({ test: String(c.test), variable: String(c.variable), values: strings(c.values) })),
    }));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(policy);
  } catch {
    return undefined;
  }
  const statements = record(parsed)?.Statement;
  return blocks(statements).map((s) => {
    const principal = s.Principal;
    const principals = principal === '*' ? ['*'] : Object.values(record(principal) ?? {}).flatMap(strings);
    const conditions = Object.entries(record(s.Condition) ?? {}).flatMap(([test, byKey]) =>
      Object.entries(record(byKey) ?? {}).map(([variable, values]) => ({ test, variable, values: strings(values) })));
    return { effect: String(s.Effect), principals, actions: strings(s.Action), resources: strings(s.Resource), conditions };
  });
}

/** A statement that denies every S3 action to anyone when the request is not over TLS. */
function deniesPlainText(s: PolicyStatement): boolean {
  return s.effect === 'Deny' && s.principals.includes('*') && s.actions.some((a) => a === 's3:*' || a === '*') &&
    s.conditions.some((c) => c.test === 'Bool' && c.variable.toLowerCase() === 'aws:securetransport' && c.values.map((v) => v.toLowerCase()).includes('false'));
}

const PUBLIC_CANNED_ACLS = ['public-read', 'public-read-write', 'authenticated-read'];
const PUBLIC_GROUP_URIS = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/;
const PUBLIC_MEMBERS = ['allUsers', 'allAuthenticatedUsers'];
const PUBLIC_ACCESS_SETTINGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];
const GCS_IAM_TYPES = ['google_storage_bucket_iam_member', 'google_storage_bucket_iam_binding', 'google_storage_bucket_iam_policy',
  'google_storage_managed_folder_iam_member', 'google_storage_managed_folder_iam_binding', 'google_storage_managed_folder_iam_policy'];
const GCS_ACL_TYPES = ['google_storage_bucket_acl', 'google_storage_default_object_acl', 'google_storage_object_acl',
  'google_storage_bucket_access_control', 'google_storage_default_object_access_control', 'google_storage_object_access_control'];

/** Public principals in a GCS IAM block (member, members, or a literal / data-source policy). */
function publicGcsMembers(b: TerraformBlock, context: PolicyContext): string[] {
  const members = [...strings(b.config.member), ...strings(b.config.members)];
  const policy = b.config.policy_data;
  if (typeof policy === 'string') {
    const reference = /^\$\{(data\.google_iam_policy\.[^.}]+)\.policy_data\}$/.exec(policy);
    if (reference) {
      const doc = (context.related ?? []).find((d) => d.address === reference[1]);
      members.push(...blocks(doc?.config.binding).flatMap((binding) => strings(binding.members)));
    } else {
      try {
        members.push(...blocks(record(JSON.parse(policy))?.bindings).flatMap((binding) => strings(binding.members)));
      } catch {
        // Not JSON: nothing to read.
      }
    }
  }
  return [...new Set(members.filter((m) => PUBLIC_MEMBERS.includes(m)))];
}

export const PUBLIC_BUCKET: IBlockRule = {
  kind: 'block',
  id: 'DPG-P015',
  level: PolicyLevel.ERROR,
  title: 'Bucket can be public',
  explanation: 'Backups hold every row of a node group. An S3 bucket needs a public access block with all four settings on ' +
    '(else one ACL or policy makes it public), no public ACL and no policy that allows anyone without a condition; a Cloud ' +
    'Storage bucket needs public access prevention enforced and no role for allUsers or allAuthenticatedUsers.',
  fix: 'add an aws_s3_bucket_public_access_block with all four settings true and remove public ACLs and grants; on GCS set ' +
    'public_access_prevention = "enforced" and grant roles only to named principals',
  types: ['aws_s3_bucket', 'aws_s3_bucket_public_access_block', 'aws_s3_bucket_acl', 'aws_s3_bucket_policy', 'google_storage_bucket',
    ...GCS_IAM_TYPES, ...GCS_ACL_TYPES],
  relatedTypes: ['aws_s3_bucket_public_access_block', 'data.aws_iam_policy_document', 'data.google_iam_policy'],
  check: (b, context) => {
    const c = b.config;
    switch (b.type) {
      case 'aws_s3_bucket': {
        const out: PolicyFinding[] = [];
        if (settingsOf(b, context, 'aws_s3_bucket_public_access_block').length === 0) {
          out.push(finding('no aws_s3_bucket_public_access_block refers to this bucket, so one ACL or policy can make it public'));
        }
        if (PUBLIC_CANNED_ACLS.includes(String(c.acl))) out.push(finding(`acl is ${c.acl}`));
        return out;
      }
      case 'aws_s3_bucket_public_access_block': {
        const off = PUBLIC_ACCESS_SETTINGS.filter((k) => !isTrue(c[k]));
        return off.length === 0 ? [] : [finding(`${off.join(', ')} ${off.length === 1 ? 'is' : 'are'} not true`)];
      }
      case 'aws_s3_bucket_acl': {
        const out: PolicyFinding[] = [];
        if (PUBLIC_CANNED_ACLS.includes(String(c.acl))) out.push(finding(`acl is ${c.acl}`));
        blocks(c.access_control_policy).flatMap((p) => blocks(p.grant)).forEach((g, i) => {
          const uri = blocks(g.grantee).map((x) => String(x.uri ?? '')).find((u) => PUBLIC_GROUP_URIS.test(u));
          if (uri) out.push(finding(`access_control_policy.grant[${i}] grants ${String(g.permission)} to ${uri}`));
        });
        return out;
      }
      case 'aws_s3_bucket_policy': {
        const statements = statementsOf(c.policy, context) ?? [];
        return statements
          .map((s, i) => (s.effect === 'Allow' && s.principals.includes('*') && s.conditions.length === 0
            ? finding(`policy statement ${i} allows ${s.actions.join(', ')} to anyone (Principal "*") without a condition`) : undefined))
          .filter((f): f is PolicyFinding => f !== undefined);
      }
      case 'google_storage_bucket':
        return c.public_access_prevention === 'enforced' ? []
          : [finding(`public_access_prevention is ${JSON.stringify(c.public_access_prevention ?? null)}, not "enforced"`)];
      default: {
        if (GCS_IAM_TYPES.includes(b.type)) {
          const members = publicGcsMembers(b, context);
          return members.length === 0 ? [] : [finding(`grants ${String(c.role ?? 'a role')} to ${members.join(', ')}`)];
        }
        const entities = [...strings(c.role_entity), ...strings(c.entity), ...strings(c.predefined_acl)];
        const open = entities.filter((e) => PUBLIC_MEMBERS.some((m) => e.includes(m)) || /^public/i.test(e));
        return open.length === 0 ? [] : [finding(`grants access to ${open.join(', ')}`)];
      }
    }
  },
};

export const UNENCRYPTED_BUCKET: IBlockRule = {
  kind: 'block',
  id: 'DPG-P016',
  level: PolicyLevel.ERROR,
  title: 'Bucket without default encryption',
  explanation: 'An S3 bucket should say how it encrypts what is written to it (an aws_s3_bucket_server_side_encryption_configuration, ' +
    'for backups with a KMS key, so reading them also needs the key): without one the stack does not show, nor control, ' +
    "the bucket's encryption. Cloud Storage always encrypts at rest (Google-managed keys unless a Cloud KMS key is set), " +
    'so Google buckets pass.',
  fix: 'add an aws_s3_bucket_server_side_encryption_configuration with apply_server_side_encryption_by_default (sse_algorithm aws:kms and the fleet key)',
  types: ['aws_s3_bucket', 'aws_s3_bucket_server_side_encryption_configuration'],
  relatedTypes: ['aws_s3_bucket_server_side_encryption_configuration'],
  check: (b, context) => {
    if (b.type === 'aws_s3_bucket') {
      return settingsOf(b, context, 'aws_s3_bucket_server_side_encryption_configuration').length > 0 ? []
        : [finding('no aws_s3_bucket_server_side_encryption_configuration refers to this bucket')];
    }
    const defaults = blocks(b.config.rule).flatMap((r) => blocks(r.apply_server_side_encryption_by_default));
    return defaults.some((d) => typeof d.sse_algorithm === 'string' && d.sse_algorithm !== '') ? []
      : [finding('no rule has apply_server_side_encryption_by_default with an sse_algorithm')];
  },
};

export const BUCKET_WITHOUT_TLS: IBlockRule = {
  kind: 'block',
  id: 'DPG-P017',
  level: PolicyLevel.ERROR,
  title: 'Bucket reachable without TLS',
  explanation: 'S3 answers plain HTTP unless the bucket policy refuses it: backups and WAL would then cross the network in clear ' +
    'text, and a request could be changed on the way. Cloud Storage serves its APIs over TLS only, so Google buckets pass.',
  fix: 'add an aws_s3_bucket_policy with a statement that denies s3:* to Principal "*" on the bucket and its objects when aws:SecureTransport is false',
  types: ['aws_s3_bucket'],
  relatedTypes: ['aws_s3_bucket_policy', 'data.aws_iam_policy_document'],
  check: (b, context) => {
    const policies = settingsOf(b, context, 'aws_s3_bucket_policy');
    if (policies.length === 0) return [finding('no aws_s3_bucket_policy refers to this bucket, so it answers requests without TLS')];
    return policies.some((p) => (statementsOf(p.config.policy, context) ?? []).some(deniesPlainText)) ? []
      : [finding('its bucket policy has no statement denying s3:* to everyone when aws:SecureTransport is false')];
  },
};

export const BACKUP_BUCKET_LOCATION: IBlockRule = {
  kind: 'block',
  id: 'DPG-P019',
  level: PolicyLevel.ERROR,
  title: "Backup bucket created outside its node groups' region",
  explanation: "A fleet's backup bucket must be created in the cloud and region of the node groups whose backups it holds, so a " +
    "group's data (and a geoshard's rows) stays in its region: an S3 bucket's region argument, a Cloud Storage bucket's location.",
  fix: "create the bucket with its fleet's region (the construct does: do not override it), or give the groups of that region their own bucket",
  types: ['aws_s3_bucket', 'google_storage_bucket'],
  check: (b, context) => {
    const name = b.type === 'aws_s3_bucket' ? b.config.bucket : b.config.name;
    const expected = context.fleet?.backupBuckets?.find((x) => x.name === name);
    if (!expected) return [];
    const cloud = b.type === 'aws_s3_bucket' ? 'aws' : 'gcp';
    if (expected.cloud !== cloud) {
      return [finding(`bucket ${String(name)} holds backups of ${expected.nodeGroups.join(', ')} in ${expected.cloud} ${expected.region}, but it is created in ${cloud}`)];
    }
    const actual = cloud === 'aws' ? b.config.region : b.config.location;
    if (actual === undefined && cloud === 'aws') return [];
    return String(actual).toLowerCase() === expected.region.toLowerCase() ? []
      : [finding(`bucket ${String(name)} holds backups of ${expected.nodeGroups.join(', ')} (${expected.region}) but is created in ${String(actual)}`)];
  },
};

/** The bucket rules, in id order. */
export const BUCKET_RULES: readonly IBlockRule[] = [PUBLIC_BUCKET, UNENCRYPTED_BUCKET, BUCKET_WITHOUT_TLS, BACKUP_BUCKET_LOCATION];
