/**
 * Security facts of every synthesized AWS fleet, asserted on the JSON: IMDSv2, encrypted root and data volumes, no
 * public IP, nothing open to the internet, database ports only to the fleet (and Postgres to its clients), the leader
 * health check on Patroni's /primary, and machine addresses equal to the topology's plan.
 */
import { Cloud, DistributedPostgresProps, EtcdPlacement } from '../../../lib';
import { summarizeCidrs } from '../../../lib/net/cidr-summary';
import { contains, parseCidr, sizeOf } from '../../../lib/net/cidr';
import { ledgerFleet, pglogicalFleet } from '../../fixtures/fleets';
import { fleetStack, ownedBy, Resource, resourcesOf, synthJson, TfJson } from '../../stacks/helpers';

const dedicatedEtcd = (): DistributedPostgresProps => ({
  name: 'ded',
  nodeGroups: [
    { name: 'main', cloud: Cloud.AWS, region: 'eu-central-1', etcd: { placement: EtcdPlacement.DEDICATED, size: 5 } },
    // A second group in the same region: the VPC gains a CIDR block association.
    { name: 'spare', cloud: Cloud.AWS, region: 'eu-central-1', machineType: 'm7g.large' },
  ],
  // Prometheus in a monitoring network of its own.
  monitoring: { scrapeCidrs: ['10.250.0.0/24'] },
});

const FLEETS: [string, () => DistributedPostgresProps][] = [
  ['ledger (AWS + GCP)', ledgerFleet],
  ['pglogical (2 AWS regions)', pglogicalFleet],
  ['dedicated etcd, two groups in one region (AWS)', dedicatedEtcd],
];

const synthesized = new Map<string, { json: TfJson; topology: ReturnType<typeof fleetStack>['fleet']['topology'] }>();
function fleet(name: string, props: () => DistributedPostgresProps) {
  if (!synthesized.has(name)) {
    const { stack, fleet: f } = fleetStack(props());
    synthesized.set(name, { json: synthJson(stack), topology: f.topology });
  }
  return synthesized.get(name)!;
}

/** True when every address of `cidr` lies in one of `allowed` (which do not overlap: fleet CIDRs never do). */
function within(cidr: string, allowed: string[]): boolean {
  const block = parseCidr(cidr)!;
  const blocks = allowed.map((a) => parseCidr(a)!);
  if (blocks.some((a) => contains(a, block))) return true;
  const covered = blocks.filter((a) => contains(block, a)).reduce((n, a) => n + sizeOf(a), 0);
  return covered === sizeOf(block);
}

describe.each(FLEETS)('%s', (name, props) => {
  test('every machine: IMDSv2 required, encrypted root volume, no public IP, AMI and user-data changes ignored', () => {
    const { json } = fleet(name, props);
    const instances = resourcesOf(json, 'aws_instance');
    expect(instances.length).toBeGreaterThan(0);
    for (const [, r] of instances) {
      expect(r.metadata_options).toMatchObject({ http_tokens: 'required', http_endpoint: 'enabled' });
      expect(r.root_block_device.encrypted).toBe(true);
      expect(r.associate_public_ip_address).toBe(false);
      expect(r.ebs_block_device).toBeUndefined();
      expect(r.user_data_replace_on_change).toBe(false);
      expect(r.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['ami', 'user_data', 'user_data_base64']));
    }
  });

  test('machine addresses, zones and names equal the topology plan', () => {
    const { json, topology } = fleet(name, props);
    const byName = new Map(resourcesOf(json, 'aws_instance').map(([, r]) => [r.tags.Name, r]));
    const planned = topology.nodeGroups.filter((g) => g.cloud === 'aws').flatMap((g) => [
      ...g.members.map((m) => ({ name: m.name, ip: m.privateIp, zone: m.zone, type: g.machineType })),
      ...g.etcd.members.filter((e) => e.hostMember === '').map((e) => ({ name: e.name, ip: e.privateIp, zone: e.zone, type: g.etcd.machineType })),
    ]);
    expect([...byName.keys()].sort()).toEqual(planned.map((p) => p.name).sort());
    const subnets = new Map(resourcesOf(json, 'aws_subnet').map(([id, s]) => [`\${aws_subnet.${id}.id}`, s]));
    for (const p of planned) {
      const r = byName.get(p.name)!;
      expect(r.private_ip).toBe(p.ip);
      expect(r.instance_type).toBe(p.type);
      expect(subnets.get(r.subnet_id)!.availability_zone).toBe(p.zone);
      expect(within(`${p.ip}/32`, [subnets.get(r.subnet_id)!.cidr_block])).toBe(true);
    }
  });

  test('every Postgres member has its own encrypted data volume in its zone, attached to it', () => {
    const { json, topology } = fleet(name, props);
    const volumes = new Map(resourcesOf(json, 'aws_ebs_volume').map(([id, v]) => [`\${aws_ebs_volume.${id}.id}`, v]));
    const instances = new Map(resourcesOf(json, 'aws_instance').map(([id, r]) => [`\${aws_instance.${id}.id}`, r]));
    const attachments = resourcesOf(json, 'aws_volume_attachment').map(([, a]) => a);
    for (const [, v] of volumes) {
      expect(v.encrypted).toBe(true);
      expect(v.final_snapshot).toBe(true);
    }
    const members = topology.nodeGroups.filter((g) => g.cloud === 'aws').flatMap((g) => g.members.map((m) => ({ ...m, disk: g.dataDisk })));
    expect(attachments).toHaveLength(members.length);
    for (const m of members) {
      const attachment = attachments.find((a) => instances.get(a.instance_id)!.tags.Name === m.name)!;
      const volume = volumes.get(attachment.volume_id)!;
      expect(volume).toMatchObject({ availability_zone: m.zone, size: m.disk.sizeGiB, type: m.disk.type });
    }
  });

  test('no ingress from the internet; database, Patroni and etcd ports only from the fleet (Postgres also from clients, the exporters from the scrape ranges)', () => {
    const { json, topology } = fleet(name, props);
    const { fleetCidrs, clientCidrs } = topology.network;
    const scrapers = [...fleetCidrs, ...topology.monitoring.scrapeCidrs];
    for (const [, sg] of resourcesOf(json, 'aws_security_group')) expect(sg.ingress).toBeUndefined();
    expect(resourcesOf(json, 'aws_security_group_rule')).toEqual([]);
    const rules = resourcesOf(json, 'aws_vpc_security_group_ingress_rule').map(([id, r]): Resource => ({ ...r, id }));
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) {
      expect(r.cidr_ipv4).not.toBe('0.0.0.0/0');
      expect(r.cidr_ipv6).toBeUndefined();
      expect(r.ip_protocol).toBe('tcp');
      const ports = [r.from_port, r.to_port];
      if (ports.every((p) => p === 5432)) expect(within(r.cidr_ipv4, [...fleetCidrs, ...clientCidrs])).toBe(true);
      else if (ports.every((p) => p === 8008)) expect(within(r.cidr_ipv4, fleetCidrs)).toBe(true);
      else if (ports.every((p) => p === 9100) || ports.every((p) => p === 9187)) expect(within(r.cidr_ipv4, scrapers)).toBe(true);
      else {
        expect(ports).toEqual([2379, 2380]);
        // etcd: the node group only
        expect(topology.nodeGroups.some((g) => g.cidr === r.cidr_ipv4 && ownedBy(r.id, `group-${g.name}`))).toBe(true);
      }
    }
    // Every fleet CIDR is admitted to Postgres and Patroni on every group (the mesh and health checks need them).
    for (const g of topology.nodeGroups.filter((n) => n.cloud === 'aws')) {
      const mine = rules.filter((r) => ownedBy(r.id, `group-${g.name}`));
      expect(mine.filter((r) => r.from_port === 5432).map((r) => r.cidr_ipv4).sort()).toEqual(summarizeCidrs([...fleetCidrs, ...clientCidrs]).sort());
      expect(mine.filter((r) => r.from_port === 8008).map((r) => r.cidr_ipv4).sort()).toEqual(summarizeCidrs(fleetCidrs).sort());
      // Metrics: both exporters from the fleet and the declared scrape ranges.
      for (const port of [9100, 9187]) {
        expect(mine.filter((r) => r.from_port === port).map((r) => [r.cidr_ipv4, r.to_port]).sort())
          .toEqual(summarizeCidrs(scrapers).sort().map((c) => [c, port]));
      }
    }
  });

  test('database subnets have no public addressing and reach the internet only through NAT', () => {
    const { json } = fleet(name, props);
    for (const [, s] of resourcesOf(json, 'aws_subnet')) expect(s.map_public_ip_on_launch).toBe(false);
    const egressSubnets = resourcesOf(json, 'aws_subnet').filter(([id]) => id.includes('egress-subnet')).map(([id]) => `\${aws_subnet.${id}.id}`);
    for (const [, r] of resourcesOf(json, 'aws_instance')) expect(egressSubnets).not.toContain(r.subnet_id);
    const igws = resourcesOf(json, 'aws_internet_gateway').map(([id]) => `\${aws_internet_gateway.${id}.id}`);
    const routes = resourcesOf(json, 'aws_route').map(([, r]) => r);
    // The internet gateway is reached only from the egress route table, which serves only the egress (NAT) subnets.
    const egressTables = routes.filter((r) => igws.includes(r.gateway_id)).map((r) => r.route_table_id);
    expect(egressTables).toHaveLength(igws.length);
    for (const [, a] of resourcesOf(json, 'aws_route_table_association')) {
      expect(egressTables.includes(a.route_table_id)).toBe(egressSubnets.includes(a.subnet_id));
    }
    const databaseDefaults = routes.filter((r) => r.destination_cidr_block === '0.0.0.0/0' && !egressTables.includes(r.route_table_id));
    expect(databaseDefaults.length).toBeGreaterThan(0);
    for (const r of databaseDefaults) expect(r.nat_gateway_id).toMatch(/^\$\{aws_nat_gateway\./);
    for (const [, t] of resourcesOf(json, 'aws_route_table')) expect(t.route).toBeUndefined();
  });

  test('each node group has an internal NLB on its planned addresses whose health check is HTTPS GET /primary on 8008', () => {
    const { json, topology } = fleet(name, props);
    const lbs = resourcesOf(json, 'aws_lb');
    const aws = topology.nodeGroups.filter((g) => g.cloud === 'aws');
    expect(lbs).toHaveLength(aws.length);
    for (const g of aws) {
      const [, lb] = lbs.find(([id]) => ownedBy(id, `group-${g.name}`))!;
      expect(lb).toMatchObject({ internal: true, load_balancer_type: 'network' });
      expect(lb.subnet_mapping.map((m: any) => m.private_ipv4_address)).toEqual(g.loadBalancerIps);
    }
    for (const [, tg] of resourcesOf(json, 'aws_lb_target_group')) {
      expect(tg).toMatchObject({ port: 5432, protocol: 'TCP' });
      expect(tg.health_check).toMatchObject({ path: '/primary', port: '8008', protocol: 'HTTPS', interval: 5, healthy_threshold: 3, unhealthy_threshold: 2, matcher: '200' });
    }
    expect(resourcesOf(json, 'aws_lb_target_group_attachment')).toHaveLength(aws.reduce((n, g) => n + g.members.length, 0));
  });

  test("machines are created after the secret values of their region and their own group's permissions", () => {
    const { json, topology } = fleet(name, props);
    for (const [, r] of resourcesOf(json, 'aws_instance')) {
      const group = r.tags['distributed-postgres:node-group'];
      const own = topology.nodeGroups.find((g) => g.name === group)!;
      const versions = resourcesOf(json, 'aws_secretsmanager_secret_version').filter(([, v]) => v.region === r.region);
      const nameOf = (v: any) => resourcesOf(json, 'aws_secretsmanager_secret').find(([id]) => v.secret_id === `\${aws_secretsmanager_secret.${id}.id}`)![1].name;
      const readable = versions.filter(([, v]) => !/-(mesh|scripts)-/.test(nameOf(v)) || [own.meshDocument, own.scriptsDocument].includes(nameOf(v)))
        .map(([id]) => `aws_secretsmanager_secret_version.${id}`);
      // 5 generated passwords, the CA (unless an operator fills it) and its own group's mesh and scripts documents; not
      // the other groups' documents, which its machines never read.
      const ca = topology.secrets.tlsCaSource === 'terraform' ? 1 : 0;
      expect(readable).toHaveLength(5 + ca + 2);
      expect(r.depends_on).toEqual(expect.arrayContaining(readable));
      expect(r.depends_on.filter((d: string) => d.startsWith('aws_secretsmanager_secret_version.')).sort()).toEqual([...readable].sort());
      // Reading the secrets and using its own backup repository: both policies of its own group's role.
      const policies = r.depends_on.filter((d: string) => d.startsWith('aws_iam_role_policy.'));
      expect(policies).toHaveLength(2);
      for (const p of policies) expect(ownedBy(p.split('.')[1], `group-${group}`)).toBe(true);
      expect(r.iam_instance_profile).toMatch(new RegExp(`^\\$\\{aws_iam_instance_profile\\.fleet_group-${group}_identity_instance-profile_[0-9A-F]{8}\\.name\\}$`));
    }
  });

  test("each node group has its own role, which may read exactly the fleet secrets of its region and its own group's documents", () => {
    const { json, topology } = fleet(name, props);
    const awsGroups = topology.nodeGroups.filter((g) => g.cloud === 'aws');
    expect(resourcesOf(json, 'aws_iam_role').map(([, r]) => r.name).sort()).toEqual(awsGroups.map((g) => `${g.patroniScope}-db`).sort());
    expect(resourcesOf(json, 'aws_iam_instance_profile').map(([, r]) => r.name).sort()).toEqual(awsGroups.map((g) => `${g.patroniScope}-db`).sort());
    const documents = Object.entries(json.data!.aws_iam_policy_document).filter(([id]) => id.includes('read-secrets'));
    expect(documents).toHaveLength(awsGroups.length);
    for (const [id, doc] of documents) {
      const group = awsGroups.find((g) => ownedBy(id, `group-${g.name}`))!;
      const region = doc.statement[0].resources[0].match(/aws-([a-z0-9-]+)_secrets/)[1];
      expect(region).toBe(group.region);
      expect(doc.statement).toHaveLength(1);
      expect(doc.statement[0].actions).toEqual(['secretsmanager:GetSecretValue']);
      const secrets = resourcesOf(json, 'aws_secretsmanager_secret').filter(([, s]) => s.region === region);
      const documents = topology.nodeGroups.filter((g) => g.cloud === 'aws' && g.region === region).flatMap((g) => [g.meshDocument, g.scriptsDocument]);
      expect(secrets.map(([, s]) => s.name).sort()).toEqual([...topology.secrets.all, ...documents].sort());
      const readable = [...topology.secrets.all, group.meshDocument, group.scriptsDocument];
      expect([...doc.statement[0].resources].sort())
        .toEqual(secrets.filter(([, s]) => readable.includes(s.name)).map(([sid]) => `\${aws_secretsmanager_secret.${sid}.arn}`).sort());
    }
    for (const [, role] of resourcesOf(json, 'aws_iam_role')) expect(role.managed_policy_arns).toBeUndefined();
    expect(resourcesOf(json, 'aws_iam_role_policy_attachment')).toEqual([]);
  });
});

test('monitoring off: no exporter port is opened', () => {
  const json = synthJson(fleetStack({ ...pglogicalFleet(), monitoring: { enabled: false } }).stack);
  const ports = resourcesOf(json, 'aws_vpc_security_group_ingress_rule').map(([, r]) => r.from_port);
  expect(ports.length).toBeGreaterThan(0);
  expect(ports.filter((p) => p === 9100 || p === 9187)).toEqual([]);
});
