/**
 * Security facts of every synthesized GCP fleet: no external IP, Shielded VM, planned addresses, a separate data disk
 * named `pgdata`, firewall rules limited to the fleet (and Google's health check probers on Patroni's port only),
 * the leader health check on Patroni's /primary, and a service account that may read only the fleet's secrets.
 */
import { Cloud, DistributedPostgresProps, EtcdPlacement } from '../../../lib';
import { GCP_HEALTH_CHECK_RANGES } from '../../../lib/cloud/gcp/network';
import { gcpArchitectureOf } from '../../../lib/cloud/gcp/node-group';
import { ledgerFleet, singleGroupDedicatedEtcd } from '../../fixtures/fleets';
import { fleetStack, ownedBy, resourcesOf, synthJson, TfJson } from '../../stacks/helpers';

const twoGcpRegions = (): DistributedPostgresProps => ({
  name: 'gg',
  nodeGroups: [
    { name: 'usc', cloud: Cloud.GCP, region: 'us-central1', etcd: { placement: EtcdPlacement.DEDICATED } },
    { name: 'euw4', cloud: Cloud.GCP, region: 'europe-west4', machineType: 'c4a-standard-4' },
  ],
  network: { clientCidrs: ['172.20.0.0/16'] },
  monitoring: { scrapeCidrs: ['192.168.40.0/24'] },
});

const FLEETS: [string, () => DistributedPostgresProps][] = [
  ['ledger (AWS + GCP)', ledgerFleet],
  ['single group, dedicated etcd (GCP)', singleGroupDedicatedEtcd],
  ['two GCP regions', twoGcpRegions],
];

const cache = new Map<string, { json: TfJson; topology: ReturnType<typeof fleetStack>['fleet']['topology'] }>();
function fleet(name: string, props: () => DistributedPostgresProps) {
  if (!cache.has(name)) {
    const { stack, fleet: f } = fleetStack(props());
    cache.set(name, { json: synthJson(stack), topology: f.topology });
  }
  return cache.get(name)!;
}

describe.each(FLEETS)('%s', (name, props) => {
  test("machines: planned network_ip and zone, no external IP, Shielded VM, their group's service account, named by label", () => {
    const { json, topology } = fleet(name, props);
    const instances = new Map(resourcesOf(json, 'google_compute_instance').map(([, r]) => [r.name, r]));
    const planned = topology.nodeGroups.filter((g) => g.cloud === 'gcp').flatMap((g) => [
      ...g.members.map((m) => ({ name: m.name, ip: m.privateIp, zone: m.zone, type: g.machineType, data: true })),
      ...g.etcd.members.filter((e) => e.hostMember === '').map((e) => ({ name: e.name, ip: e.privateIp, zone: e.zone, type: g.etcd.machineType, data: false })),
    ]);
    expect([...instances.keys()].sort()).toEqual(planned.map((p) => p.name).sort());
    const serviceAccounts = resourcesOf(json, 'google_service_account');
    const gcpGroups = topology.nodeGroups.filter((g) => g.cloud === 'gcp');
    expect(serviceAccounts.map(([, sa]) => sa.account_id).sort()).toEqual(gcpGroups.map((g) => `${g.patroniScope}-db`).sort());
    for (const p of planned) {
      const r = instances.get(p.name)!;
      expect(r).toMatchObject({ zone: p.zone, machine_type: p.type });
      expect(r.labels.name).toBe(p.name);
      expect(r.network_interface).toHaveLength(1);
      expect(r.network_interface[0].network_ip).toBe(p.ip);
      expect(r.network_interface[0].access_config).toBeUndefined();
      expect(r.shielded_instance_config).toEqual({ enable_secure_boot: true, enable_vtpm: true, enable_integrity_monitoring: true });
      const [saId] = serviceAccounts.find(([id]) => ownedBy(id, `group-${r.labels['distributed-postgres-node-group']}`))!;
      expect(r.service_account.email).toBe(`\${google_service_account.${saId}.email}`);
      expect(r.metadata['user-data']).toEqual(expect.any(String));
      expect(r.metadata['block-project-ssh-keys']).toBe('true');
      expect(r.boot_disk.initialize_params.image).toBe(`projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-${gcpArchitectureOf(p.type)}`);
      expect(r.lifecycle.ignore_changes).toContain('boot_disk[0].initialize_params[0].image');
      if (p.data) {
        expect(r.attached_disk).toHaveLength(1);
        expect(r.attached_disk[0].device_name).toBe('pgdata');
      } else {
        expect(r.attached_disk).toBeUndefined();
      }
    }
  });

  test('each Postgres member has its own data disk in its zone, sized and typed as declared', () => {
    const { json, topology } = fleet(name, props);
    const disks = new Map(resourcesOf(json, 'google_compute_disk').map(([id, d]) => [`\${google_compute_disk.${id}.id}`, d]));
    for (const g of topology.nodeGroups.filter((n) => n.cloud === 'gcp')) {
      for (const m of g.members) {
        const [, instance] = resourcesOf(json, 'google_compute_instance').find(([, r]) => r.name === m.name)!;
        expect(disks.get(instance.attached_disk[0].source)).toMatchObject({ name: `${m.name}-data`, zone: m.zone, size: g.dataDisk.sizeGiB, type: g.dataDisk.type });
      }
    }
  });

  test('firewall: ingress only, never from the internet; Postgres from fleet + clients, Patroni from the fleet and health probers, etcd from the group', () => {
    const { json, topology } = fleet(name, props);
    const { fleetCidrs, clientCidrs } = topology.network;
    const rules = resourcesOf(json, 'google_compute_firewall');
    expect(rules.length).toBeGreaterThan(0);
    // Every GCP group has its metrics rule.
    const metrics = rules.filter(([, r]) => r.allow[0].ports[0] === '9100');
    expect(metrics).toHaveLength(topology.nodeGroups.filter((g) => g.cloud === 'gcp').length);
    for (const [id, r] of rules) {
      expect(r.direction).toBe('INGRESS');
      expect(r.source_ranges).not.toContain('0.0.0.0/0');
      expect(r.source_tags).toBeUndefined();
      expect(r.allow).toHaveLength(1);
      expect(r.allow[0].protocol).toBe('tcp');
      const group = topology.nodeGroups.find((g) => ownedBy(id, `group-${g.name}`))!;
      expect(r.target_tags).toEqual([`${topology.fleetName}-${group.name}`]);
      const ports = r.allow[0].ports;
      if (ports[0] === '5432') expect(r.source_ranges).toEqual([...fleetCidrs, ...clientCidrs].sort());
      else if (ports[0] === '8008' && r.name.endsWith('health-checks')) expect(r.source_ranges).toEqual(GCP_HEALTH_CHECK_RANGES);
      else if (ports[0] === '8008') expect(r.source_ranges).toEqual(fleetCidrs);
      else if (ports[0] === '9100') {
        // Metrics: both exporters from the fleet and the declared scrape ranges.
        expect(ports).toEqual(['9100', '9187']);
        expect(r.source_ranges).toEqual([...fleetCidrs, ...topology.monitoring.scrapeCidrs].sort());
      } else {
        expect(ports).toEqual(['2379-2380']);
        expect(r.source_ranges).toEqual([group.cidr]);
      }
    }
  });

  test('one global VPC with a subnetwork per group and Cloud NAT per region', () => {
    const { json, topology } = fleet(name, props);
    const networks = resourcesOf(json, 'google_compute_network');
    expect(networks).toHaveLength(1);
    expect(networks[0][1]).toMatchObject({ routing_mode: 'GLOBAL', auto_create_subnetworks: false });
    const subnetworks = resourcesOf(json, 'google_compute_subnetwork').map(([, s]) => ({ region: s.region, cidr: s.ip_cidr_range, pga: s.private_ip_google_access }));
    expect(subnetworks).toEqual(expect.arrayContaining(topology.network.gcpSubnetworks.map((s) => ({ region: s.region, cidr: s.cidr, pga: true }))));
    expect(subnetworks).toHaveLength(topology.network.gcpSubnetworks.length);
    const natRegions = resourcesOf(json, 'google_compute_router_nat').map(([, n]) => n.region).sort();
    expect(natRegions).toEqual([...new Set(topology.network.gcpSubnetworks.map((s) => s.region))].sort());
  });

  test('internal load balancer per group: planned address, global access, HTTPS GET /primary on 8008', () => {
    const { json, topology } = fleet(name, props);
    const groups = topology.nodeGroups.filter((g) => g.cloud === 'gcp');
    const rules = resourcesOf(json, 'google_compute_forwarding_rule');
    expect(rules).toHaveLength(groups.length);
    const addresses = new Map(resourcesOf(json, 'google_compute_address').map(([id, a]) => [`\${google_compute_address.${id}.address}`, a]));
    for (const g of groups) {
      const [, rule] = rules.find(([id]) => ownedBy(id, `group-${g.name}`))!;
      expect(rule).toMatchObject({ load_balancing_scheme: 'INTERNAL', ip_protocol: 'TCP', ports: ['5432'], allow_global_access: true, region: g.region });
      expect(addresses.get(rule.ip_address)).toMatchObject({ address: g.loadBalancerIps[0], address_type: 'INTERNAL' });
    }
    for (const [, hc] of resourcesOf(json, 'google_compute_region_health_check')) {
      expect(hc.https_health_check).toEqual({ port: 8008, request_path: '/primary' });
      expect(hc).toMatchObject({ check_interval_sec: 5, timeout_sec: 2, healthy_threshold: 3, unhealthy_threshold: 2 });
    }
    for (const [, backend] of resourcesOf(json, 'google_compute_region_backend_service')) {
      expect(backend).toMatchObject({ load_balancing_scheme: 'INTERNAL', protocol: 'TCP' });
    }
  });

  test("machines are created after the secret values and their own group's permissions and repository", () => {
    const { json, topology } = fleet(name, props);
    const documents = topology.nodeGroups.filter((g) => g.cloud === 'gcp').length;
    const all = resourcesOf(json, 'google_secret_manager_secret_version');
    // 5 generated passwords, the CA (unless an operator fills it) and a mesh and a scripts document per GCP group.
    const ca = topology.secrets.tlsCaSource === 'terraform' ? 1 : 0;
    expect(all).toHaveLength(5 + ca + 2 * documents);
    const secretIdOf = (v: any) => resourcesOf(json, 'google_secret_manager_secret').find(([id]) => v.secret === `\${google_secret_manager_secret.${id}.id}`)![1].secret_id;
    for (const [, r] of resourcesOf(json, 'google_compute_instance')) {
      const group = topology.nodeGroups.find((g) => g.name === r.labels['distributed-postgres-node-group'])!;
      const own = (type: string) => resourcesOf(json, type).filter(([id]) => ownedBy(id, `group-${group.name}`)).map(([id]) => `${type}.${id}`);
      // The fleet's secrets and its own group's two documents; not the other groups' documents, never read by its machines.
      const readable = [...topology.secrets.all, group.meshDocument, group.scriptsDocument];
      const versions = all.filter(([, v]) => readable.includes(secretIdOf(v))).map(([id]) => `google_secret_manager_secret_version.${id}`);
      expect(versions).toHaveLength(5 + ca + 2);
      const readers = own('google_secret_manager_secret_iam_member');
      // A reader per secret (6) and per document of its own group (2).
      expect(readers).toHaveLength(6 + 2);
      const backup = group.backup ? [...own('google_storage_managed_folder'), ...own('google_storage_managed_folder_iam_member')] : [];
      expect(backup).toHaveLength(group.backup ? 2 : 0);
      expect([...r.depends_on].sort()).toEqual([...versions, ...readers, ...backup].sort());
    }
  });

  test("each group's service account may read exactly the fleet secrets and its own group's documents, and has no project role", () => {
    const { json, topology } = fleet(name, props);
    const secrets = resourcesOf(json, 'google_secret_manager_secret');
    expect(secrets.map(([, s]) => s.secret_id).sort())
      .toEqual([...topology.secrets.all, ...topology.nodeGroups.filter((g) => g.cloud === 'gcp').flatMap((g) => [g.meshDocument, g.scriptsDocument])].sort());
    for (const [, s] of secrets) expect(s.replication).toEqual({ auto: {} });
    const gcpGroups = topology.nodeGroups.filter((g) => g.cloud === 'gcp');
    const members = resourcesOf(json, 'google_secret_manager_secret_iam_member');
    expect(members).toHaveLength((topology.secrets.all.length + 2) * gcpGroups.length);
    for (const g of gcpGroups) {
      const [saId] = resourcesOf(json, 'google_service_account').find(([id]) => ownedBy(id, `group-${g.name}`))!;
      const own = members.filter(([id]) => ownedBy(id, `group-${g.name}`)).map(([, m]) => m);
      for (const m of own) expect(m).toMatchObject({ role: 'roles/secretmanager.secretAccessor', member: `\${google_service_account.${saId}.member}` });
      const readable = [...topology.secrets.all, g.meshDocument, g.scriptsDocument];
      expect(own.map((m) => m.secret_id).sort())
        .toEqual(secrets.filter(([, s]) => readable.includes(s.secret_id)).map(([id]) => `\${google_secret_manager_secret.${id}.id}`).sort());
    }
    for (const type of Object.keys(json.resource)) expect(type).not.toMatch(/^google_project_iam|^google_.*_iam_(binding|policy)$/);
  });
});

test('monitoring off: no exporter port is opened', () => {
  const json = synthJson(fleetStack({ ...singleGroupDedicatedEtcd(), monitoring: { enabled: false } }).stack);
  const rules = resourcesOf(json, 'google_compute_firewall');
  expect(rules.length).toBeGreaterThan(0);
  expect(rules.filter(([, r]) => r.allow[0].ports.some((p: string) => p === '9100' || p === '9187'))).toEqual([]);
});
