/**
 * The company's governance on the synthesized JSON of the ledger fleet (AWS and GCP): its tags on every AWS resource
 * that takes tags (also the machines' root disks), its labels on every GCP resource that takes labels (also the boot
 * disks), the construct's own tags and labels kept, the IAM boundary and path on the roles and instance profiles,
 * extra security groups on the AWS machines of the group that asks for them; and nothing of it when not declared.
 */
import { DistributedPostgresProps } from '../../lib';
import { ledgerFleet } from '../fixtures/fleets';
import { fleetStack, Resource, resourcesOf, synthJson, TfJson } from '../stacks/helpers';

const BOUNDARY = 'arn:aws:iam::123456789012:policy/platform-boundary';
const EXTRA_SG = ['sg-0123456789abcdef0', 'sg-89abcdef'];

function governed(): DistributedPostgresProps {
  const props = ledgerFleet();
  return {
    ...props,
    nodeGroups: props.nodeGroups.map((g, i) => (i === 0 ? { ...g, extraSecurityGroupIds: EXTRA_SG } : g)),
    governance: {
      awsTags: { 'company:cost-center': 'db-1234', owner: 'platform team' },
      gcpLabels: { 'cost-center': 'db-1234', owner: 'platform' },
      permissionsBoundaryArn: BOUNDARY,
      iamPath: '/platform/databases/',
    },
  };
}

/** Every resource of the JSON as [type, logical id, body]. */
function allResources(json: TfJson): [string, string, Resource][] {
  return Object.entries(json.resource).flatMap(([type, byId]) => Object.entries(byId).map(([id, body]) => [type, id, body] as [string, string, Resource]));
}

describe('governance: tags, labels, IAM boundary and path, extra security groups', () => {
  const json = synthJson(fleetStack(governed()).stack);
  const plain = synthJson(fleetStack(ledgerFleet()).stack);
  const resources = allResources(json);

  test('every AWS resource that takes tags has the company\'s, next to the construct\'s own', () => {
    const aws = resources.filter(([type]) => type.startsWith('aws_'));
    const tagged = aws.filter(([, , body]) => body.tags !== undefined);
    // The kinds that must be among them: machines, disks, load balancers, security groups, secrets, roles, networks.
    const kinds = new Set(tagged.map(([type]) => type));
    for (const kind of ['aws_instance', 'aws_ebs_volume', 'aws_lb', 'aws_security_group', 'aws_secretsmanager_secret', 'aws_iam_role',
      'aws_iam_instance_profile', 'aws_vpc', 'aws_subnet', 'aws_route53_zone']) {
      expect(kinds).toContain(kind);
    }
    // Exactly the company's tags plus whatever the construct set without governance (its own are kept).
    for (const [type, id, body] of tagged) {
      const own = plain.resource[type]?.[id]?.tags ?? {};
      expect({ type, id, tags: body.tags }).toEqual({ type, id, tags: { 'company:cost-center': 'db-1234', owner: 'platform team', ...own } });
    }
    // The resources of a kind that takes tags all have them (none left out).
    for (const kind of kinds) {
      for (const [id, body] of resourcesOf(json, kind)) expect({ id, tagged: body.tags !== undefined }).toEqual({ id, tagged: true });
    }
    for (const [, body] of resourcesOf(json, 'aws_instance')) {
      expect(body.root_block_device.tags).toMatchObject({ 'company:cost-center': 'db-1234', Name: expect.stringMatching(/-root$/) });
    }
  });

  test('every GCP resource that takes labels has the company\'s; a machine\'s network tags stay a list', () => {
    const labelled = resources.filter(([type, , body]) => type.startsWith('google_') && body.labels !== undefined);
    const kinds = new Set(labelled.map(([type]) => type));
    for (const kind of ['google_compute_instance', 'google_compute_disk', 'google_secret_manager_secret', 'google_dns_managed_zone']) {
      expect(kinds).toContain(kind);
    }
    for (const [type, id, body] of labelled) {
      const own = plain.resource[type]?.[id]?.labels ?? {};
      expect({ type, id, labels: body.labels }).toEqual({ type, id, labels: { 'cost-center': 'db-1234', owner: 'platform', ...own } });
    }
    for (const [, body] of resourcesOf(json, 'google_compute_instance')) {
      expect(Array.isArray(body.tags)).toBe(true);
      expect(body.boot_disk.initialize_params.labels).toMatchObject({ 'cost-center': 'db-1234', name: expect.stringMatching(/-root$/) });
    }
  });

  test('roles carry the permissions boundary and the path; instance profiles the path', () => {
    const roles = resourcesOf(json, 'aws_iam_role');
    expect(roles.length).toBeGreaterThan(0);
    for (const [, role] of roles) expect(role).toMatchObject({ permissions_boundary: BOUNDARY, path: '/platform/databases/' });
    for (const [, profile] of resourcesOf(json, 'aws_iam_instance_profile')) expect(profile.path).toBe('/platform/databases/');
  });

  test('the extra security groups are on the machines of the group that asks for them, after its own', () => {
    const machines = resourcesOf(json, 'aws_instance');
    const withExtra = machines.filter(([, body]) => body.vpc_security_group_ids.length === 3);
    expect(withExtra.length).toBeGreaterThan(0);
    for (const [, body] of withExtra) expect(body.vpc_security_group_ids.slice(1)).toEqual(EXTRA_SG);
    for (const [, body] of machines.filter(([, b]) => b.vpc_security_group_ids.length !== 3)) expect(body.vpc_security_group_ids).toHaveLength(1);
    expect(withExtra.every(([, body]) => body.tags['distributed-postgres:node-group'] === 'use1')).toBe(true);
  });

  test('a fleet that declares no governance gets none of it', () => {
    const text = JSON.stringify(plain);
    expect(text).not.toContain('company:cost-center');
    expect(text).not.toContain('permissions_boundary');
    for (const [, role] of resourcesOf(plain, 'aws_iam_role')) expect(role.path).toBeUndefined();
  });
});
