import { Annotations, Aspects, TerraformStack } from 'cdktf';
// Not re-exported by the package index; TerraformAsset writes its files through the same hook.
import { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
import { Construct } from 'constructs';
import * as fs from 'fs';
import * as path from 'path';
import { AwsBackupBucket } from './cloud/aws/backup';
import { AwsPrivateZone } from './cloud/aws/dns';
import { terraformTlsCa } from './cloud/tls-ca';
import { shortCreationStacks } from './cloud/creation-stacks';
import { AwsExistingNetwork } from './cloud/aws/existing-network';
import { AwsRegionNetwork } from './cloud/aws/network';
import { AwsNodeGroup } from './cloud/aws/node-group';
import { AwsFleetSecrets } from './cloud/aws/secrets';
import { GcpBackupBucket } from './cloud/gcp/backup';
import { GcpPrivateZone } from './cloud/gcp/dns';
import { GcpFleetNetwork } from './cloud/gcp/network';
import { GcpNodeGroup } from './cloud/gcp/node-group';
import { GcpFleetSecrets } from './cloud/gcp/secrets';
import { AwsGcpHaVpn, vpnRouter } from './cloud/interconnect/ha-vpn';
import { AwsRegionPeering } from './cloud/interconnect/peering';
import { GovernanceTags } from './cloud/governance';
import { generatedPasswords } from './cloud/passwords';
import { resolveProviders } from './cloud/providers';
import { DistributedPostgresProps } from './declaration/props';
import { Finding } from './declaration/spec';
import { checkDeclaration, FleetValidationError } from './declaration/validate';
import { topologyToMermaid } from './diagram/mermaid';
import { renderAlertRules } from './monitoring/alerts';
import { applyPolicyPack } from './policy';
import { encodeUserData, EncodedUserData, machinesOf, renderCloudConfig } from './render';
import { groupScriptsDocument } from './render/cloud-config';
import { ScriptsDocumentTooLargeError } from './render/scripts-document';
import { meshDocument } from './render/mesh-document';
import { joinsWithRows } from './render/mesh/join';
import { resolveFleet } from './topology/fleet';
import { addedNodeGroups, FleetLock, fleetLockOf, fleetLockOfSpec, formatFleetLock, lockChangeFindings, parseFleetLock } from './topology/lock';
import { CloudName, NodeGroup, Topology } from './topology/topology';

/** The leader endpoint of one node group, for outputs and applications. */
export interface NodeGroupEndpoint {
  readonly nodeGroup: string;
  readonly cloud: CloudName;
  readonly region: string;
  /** DNS name in the fleet's private zone; resolves to `addresses`. */
  readonly fqdn: string;
  /** Private addresses of the group's internal load balancer (Postgres on 5432, always the current leader). */
  readonly addresses: string[];
}

/**
 * A globally distributed, highly available PostgreSQL fleet: node groups (Patroni clusters with etcd
 * quorums) in AWS and GCP regions, joined by multi-master logical replication.
 *
 * The declaration is validated in the constructor: every problem is reported at once, naming this
 * construct, and nothing is synthesized. Then it creates the cloud resources: networks, secrets, machines, load
 * balancers, DNS, and the interconnect between regions and clouds. Synth also writes a Mermaid picture of the
 * topology (`topology.mmd`) and, unless `monitoring.enabled` is false, the fleet's Prometheus alerting rules
 * (`alerts.rules.yml`) next to the stack's Terraform JSON.
 */
export class DistributedPostgres extends Construct {
  /** The resolved topology: names, placement, addresses, quorums and the replication mesh. */
  public readonly topology: Topology;
  /** The Mermaid picture of the topology (what synth writes to `topology.mmd`). */
  public readonly diagram: string;
  /**
   * The fleet's Prometheus alerting rules, YAML (what synth writes to `alerts.rules.yml`): load them with `rule_files`
   * where Prometheus scrapes the members' exporters (README "Alerts"). The empty string when `monitoring.enabled` is
   * false: the members run no exporters, so there is nothing to alert on, and synth writes no rules file.
   */
  public readonly alertRules: string;
  /** Leader endpoints of every node group, in node group order. */
  public readonly endpoints: NodeGroupEndpoint[];

  constructor(scope: Construct, id: string, props: DistributedPostgresProps) {
    super(scope, id);
    // Every token cdktf makes records its creation stack; made deep inside this construct, each held about 40
    // frames: most of a large fleet's memory (README "Benchmark"). Inside, they keep the nearest frames only.
    const restoreStacks = shortCreationStacks();
    try {
      const fleet = resolveOrRefuse(props, this.node.path, id.toLowerCase());
      const topology = fleet.topology;
      this.topology = topology;
      for (const warning of fleet.warnings) Annotations.of(this).addWarning(warning);
      const providers = resolveProviders(this, props, topology);
      const userData = renderUserData(topology);
      const lock = fleetLockOf(topology);
      const locked = readLock(props.lockFile);
      const problems = [...providers.findings, ...userData.findings, ...locked.findings,
        ...(locked.previous ? lockChangeFindings(locked.previous, lock) : [])];
      if (problems.length > 0) throw new FleetValidationError(this.node.path, problems);
      if (typeof props.lockFile === 'string') writeLockAtSynth(this, props.lockFile, formatFleetLock(lock));
      if (locked.previous) for (const warning of additionWarnings(String(props.lockFile), locked.previous, lock, topology)) Annotations.of(this).addWarning(warning);

      const generated = generatedPasswords(this, topology);
      // The TLS CA: Terraform's by default; an operator's (bin/fill-tls-ca) with TlsCa.OPERATOR_FILLED.
      const tlsCa = terraformTlsCa(this, topology);
      if (tlsCa !== undefined) generated[topology.secrets.tlsCa] = tlsCa;
      const awsNetworks = new Map<string, AwsRegionNetwork>();
      const awsSecrets = new Map<string, AwsFleetSecrets>();
      const awsBackups = new Map<string, AwsBackupBucket>();
      const awsRegions = [...new Set(topology.nodeGroups.filter((g) => g.cloud === 'aws').map((g) => g.region))].sort();
      const ownVpcRegions = new Set(topology.network.awsVpcs.map((v) => v.region));
      for (const region of awsRegions) {
        const target = providers.aws.get(region)!;
        const regionScope = new Construct(this, `aws-${region}`);
        // A region whose groups bring their network gets none of its own.
        if (ownVpcRegions.has(region)) awsNetworks.set(region, new AwsRegionNetwork(regionScope, 'network', { topology, region, target }));
        awsSecrets.set(region, new AwsFleetSecrets(regionScope, 'secrets', {
          topology, target, generatedValues: generated, ...documentsOf(topology, (g) => g.cloud === 'aws' && g.region === region),
        }));
        // The region's backup bucket, when a group of the region backs up.
        const bucket = topology.backupBuckets.find((b) => b.cloud === 'aws' && b.region === region);
        if (bucket) awsBackups.set(region, new AwsBackupBucket(regionScope, 'backup', { topology, bucket, target }));
      }
      const gcpGroups = topology.nodeGroups.filter((g) => g.cloud === 'gcp');
      const gcp = gcpGroups.length === 0 ? undefined : (() => {
        const provider = providers.google!;
        const gcpScope = new Construct(this, 'gcp');
        const network = new GcpFleetNetwork(gcpScope, 'network', { topology, provider });
        return {
          network,
          secrets: new GcpFleetSecrets(gcpScope, 'secrets', {
            topology, provider, generatedValues: generated, ...documentsOf(topology, (g) => g.cloud === 'gcp'),
          }),
          zone: new GcpPrivateZone(gcpScope, 'private-zone', { topology, provider, network }),
          backups: new Map(topology.backupBuckets.filter((b) => b.cloud === 'gcp')
            .map((bucket) => [bucket.region, new GcpBackupBucket(gcpScope, `backup-${bucket.region}`, { topology, bucket, provider })])),
        };
      })();
      // Route 53 is global; the zone lives with the region of the first AWS group (adding groups never moves it).
      const awsHome = topology.nodeGroups.find((g) => g.cloud === 'aws');
      const awsZone = awsHome === undefined ? undefined : new AwsPrivateZone(this, 'aws-private-zone', {
        topology,
        target: providers.aws.get(awsHome.region)!,
        networks: [...awsNetworks.values()],
        existingVpcs: uniqueBy(topology.nodeGroups.filter((g) => g.cloud === 'aws' && g.existingNetwork?.vpcId)
          .map((g) => ({ vpcId: g.existingNetwork!.vpcId!, region: g.region })), (v) => v.vpcId),
      });
      // Both clouds' zones hold every name, so a machine resolves the whole fleet from either cloud.
      const addDnsRecord = (owner: Construct, fqdn: string, ips: string[], ttl: number) => {
        awsZone?.addARecord(owner, 'dns-aws', fqdn, ips, ttl);
        gcp?.zone.addARecord(owner, 'dns-gcp', fqdn, ips, ttl);
      };

      for (const group of topology.nodeGroups) {
        const groupId = `group-${group.name}`;
        if (group.cloud === 'aws') {
          new AwsNodeGroup(this, groupId, {
            topology,
            group,
            network: group.existingNetwork
              ? new AwsExistingNetwork(this, `${groupId}-network`, group, providers.aws.get(group.region)!)
              : awsNetworks.get(group.region)!,
            secrets: awsSecrets.get(group.region)!,
            // A restored group reads its source's repository in the same region's bucket.
            backupBucket: group.backup || group.restore ? awsBackups.get(group.region) : undefined,
            userData: (machine) => userData.of(machine),
            addDnsRecord,
            bootAfter: awsSecrets.get(group.region)!.readableBy(group).readableAfter,
          });
        } else {
          new GcpNodeGroup(this, groupId, {
            topology,
            group,
            network: gcp!.network,
            secrets: gcp!.secrets,
            backupBucket: group.backup || group.restore ? gcp!.backups.get(group.region) : undefined,
            userData: (machine) => userData.of(machine),
            addDnsRecord,
            bootAfter: gcp!.secrets.readableBy(group).readableAfter,
          });
        }
      }

      const { awsPeerings, vpnLinks } = topology.network;
      if (awsPeerings.length > 0 || vpnLinks.length > 0) {
        const interconnect = new Construct(this, 'interconnect');
        for (const p of awsPeerings) {
          new AwsRegionPeering(interconnect, `peering-${p.requesterRegion}-${p.accepterRegion}`, {
            fleetName: topology.fleetName,
            requester: awsNetworks.get(p.requesterRegion)!,
            accepter: awsNetworks.get(p.accepterRegion)!,
          });
        }
        const routers = new Map<string, ReturnType<typeof vpnRouter>>();
        for (const link of vpnLinks) {
          if (!routers.has(link.gcpRegion)) {
            routers.set(link.gcpRegion, vpnRouter(interconnect, topology.fleetName, gcp!.network, link.gcpRegion, link.gcpAsn));
          }
          new AwsGcpHaVpn(interconnect, `vpn-${link.awsRegion}`, {
            fleetName: topology.fleetName,
            link,
            aws: awsNetworks.get(link.awsRegion)!,
            gcp: gcp!.network,
            router: routers.get(link.gcpRegion)!,
          });
        }
      }

      this.endpoints = topology.nodeGroups.map((g) => ({
        nodeGroup: g.name, cloud: g.cloud, region: g.region, fqdn: g.endpointFqdn, addresses: [...g.loadBalancerIps],
      }));
      this.diagram = topologyToMermaid(topology);
      this.alertRules = renderAlertRules(topology);
      writeFilesAtSynth(this);
      // Secure defaults are checked on everything this construct creates; a finding is silenced only with a reason
      // (PolicyPack.suppress), and error findings stop synth.
      // The company's tags and labels on every resource that takes them (before the policy pack reads the tree).
      if (topology.governance) Aspects.of(this).add(new GovernanceTags(topology.governance));
      applyPolicyPack(this);
    } finally {
      restoreStacks();
    }
  }
}

/**
 * What to change when a cloud-config is too large, from what makes it large in this declaration: the Postgres
 * parameters are in every member's configuration (the mesh, Patroni's pg_hba and slots are in the mesh documents).
 */
function userDataFix(topology: Topology): string {
  const parameters = Object.entries(topology.postgres.parameters);
  const parameterBytes = parameters.reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  const fixes: string[] = [];
  if (parameterBytes > 2048) {
    fixes.push(`postgres.parameters holds ${parameters.length} entries (${parameterBytes} bytes in every member's Patroni configuration): ` +
      'declare fewer, and set the others after the deploy through Patroni\'s dynamic configuration (patronictl edit-config)');
  }
  return fixes.length ? `${fixes.join('; or ')}.` : 'report this as a bug (the declaration holds nothing that should make it this large).';
}

/**
 * Every machine's user-data: the renderer's cloud-config, encoded the way the machine's cloud takes it. Rendered up
 * front, so a cloud-config too large for its cloud is a finding of the declaration (nothing is created), not an
 * exception from deep inside a node group.
 */
function renderUserData(topology: Topology): { of: (machine: string) => EncodedUserData; findings: Finding[] } {
  const cloudOf = new Map(topology.nodeGroups.map((g) => [g.name, g.cloud]));
  const encoded = new Map<string, EncodedUserData>();
  const findings: Finding[] = [];
  for (const machine of machinesOf(topology)) {
    try {
      encoded.set(machine.name, encodeUserData(cloudOf.get(machine.nodeGroup)!, renderCloudConfig(topology, machine.name), machine.name));
    } catch (e) {
      if (e instanceof ScriptsDocumentTooLargeError) {
        // One per group: every machine of a group pins the same document.
        if (!findings.some((f) => f.rule === 'DPG-SCRIPTS-DOCUMENT' && f.path === `node group ${machine.nodeGroup}`)) {
          findings.push({
            rule: 'DPG-SCRIPTS-DOCUMENT',
            path: `node group ${machine.nodeGroup}`,
            message: `${e.message}. Fix: none in the declaration: the document holds the group's boot scripts and units (a fixed set) and ` +
              'SQL that grows only slowly with the number of node groups, so report this as a bug with the declaration attached.',
          });
        }
        continue;
      }
      findings.push({
        rule: 'DPG-USER-DATA',
        path: `node group ${machine.nodeGroup}, machine ${machine.name}`,
        message: `${(e as Error).message.replace(/^render: /, '')}. Fix: ${userDataFix(topology)}`,
      });
    }
  }
  return {
    of: (machine) => {
      const value = encoded.get(machine);
      if (!value) throw new Error(`DistributedPostgres: no user-data was rendered for machine ${machine}`);
      return value;
    },
    findings,
  };
}

/**
 * The declaration resolved; a declaration with problems is refused with every one of them, including the changes a
 * running fleet cannot make (`lockFile`), which a valid declaration gets checked against after it resolves.
 */
function resolveOrRefuse(props: DistributedPostgresProps, constructPath: string, defaultName: string): ReturnType<typeof resolveFleet> {
  try {
    return resolveFleet(props, constructPath, defaultName);
  } catch (e) {
    if (!(e instanceof FleetValidationError)) throw e;
    const locked = readLock(props.lockFile);
    const changes = locked.previous ? lockChangeFindings(locked.previous, fleetLockOfSpec(checkDeclaration(props, defaultName).spec, locked.previous)) : [];
    const more = [...locked.findings, ...changes];
    if (more.length === 0) throw e;
    throw new FleetValidationError(constructPath, [...e.findings, ...more]);
  }
}

/** The locked declaration (none without a lock file, or before its first synth), or why the lock file is not one. */
function readLock(lockFile: unknown): { previous?: FleetLock; findings: Finding[] } {
  if (lockFile === undefined) return { findings: [] };
  if (typeof lockFile !== 'string' || lockFile.trim() === '') {
    return { findings: [{ rule: 'DPG-TYPE', path: 'lockFile', message: `${JSON.stringify(lockFile)} is not a file path. Fix: e.g. 'fleet.lock.json' next to the stack.` }] };
  }
  if (!fs.existsSync(lockFile)) return { findings: [] };
  const previous = parseFleetLock(fs.readFileSync(lockFile, 'utf8'));
  if (typeof previous === 'string') {
    return { findings: [{ rule: 'DPG-LIVE-CHANGE', path: 'lockFile', message: `${lockFile} ${previous}. Fix: restore it from version control (delete it only to record the declaration anew).` }] };
  }
  return { previous, findings: [] };
}

/**
 * Node groups added to a running fleet (not in the lock file) that will not get the rows the fleet already holds: the
 * engine or conflict policy has no join with a copy (render/mesh/join.ts).
 */
function additionWarnings(lockFile: string, previous: FleetLock, next: FleetLock, topology: Topology): string[] {
  const { engine, conflictPolicy } = topology.replication;
  const why = engine === 'pglogical' ? `with engine pglogical and conflict policy ${conflictPolicy}`
    : engine === 'native' ? 'with engine native and replication sets from more than one provider (a geoshard)' : `with engine ${engine}`;
  return addedNodeGroups(previous, next)
    .filter((name) => !topology.nodeGroups.find((g) => g.name === name)!.restore) // a restored group brings its rows from a backup
    .filter((name) => !joinsWithRows(topology, topology.nodeGroups.find((g) => g.name === name)!))
    .map((name) => `[DPG-ADD-WITHOUT-ROWS] node group '${name}' is added to the running fleet of ${lockFile}: ${why} ` +
    'it copies none of the rows the fleet already holds (pglogical under last_update_wins or apply_remote does, and native when one provider ' +
    'carries all its replication sets): it receives what the other groups write once their new mesh documents give it slots. Fix: load the ' +
    'existing rows into it before the application uses it (README: Adding a node group).');
}

/**
 * Writes the lock file at synth, once the stack's validations passed, and not when synth is about to stop on an error
 * finding (of the policy pack): the lock records accepted declarations only. Unchanged content is not rewritten.
 */
function writeLockAtSynth(fleet: DistributedPostgres, file: string, text: string): void {
  // A construct takes one custom synthesis (the fleet's writes the diagram and the alerting rules): the lock's is on a child with no resources.
  addCustomSynthesis(new Construct(fleet, 'lock-file'), {
    onSynthesize() {
      const failing = TerraformStack.of(fleet).node.findAll().some((c) => c.node.metadata.some((m) => /error/i.test(m.type)));
      if (failing || (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text)) return;
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      fs.writeFileSync(file, text);
    },
  });
}

/**
 * Writes the Mermaid picture and the alerting rules next to the stack's Terraform JSON at synth
 * (`cdktf.out/stacks/<stack>/topology.mmd` and `alerts.rules.yml`; `topology-<fleet>.mmd` and
 * `alerts-<fleet>.rules.yml` when one stack holds several fleets). A fleet without monitoring has no rules: its rules
 * file is not written, and one an earlier synth left there is removed (it would alert on exporters that are gone).
 * cdktf calls custom synthesis of every construct while synthesizing a stack (the mechanism TerraformAsset uses).
 */
function writeFilesAtSynth(fleet: DistributedPostgres): void {
  addCustomSynthesis(fleet, {
    onSynthesize(session) {
      const stack = TerraformStack.of(fleet);
      const single = stack.node.findAll().filter((c) => c instanceof DistributedPostgres).length === 1;
      const name = fleet.topology.fleetName;
      const stackFile = path.join(session.outdir, session.manifest.forStack(stack).synthesizedStackPath);
      fs.mkdirSync(path.dirname(stackFile), { recursive: true });
      fs.writeFileSync(path.join(path.dirname(stackFile), single ? 'topology.mmd' : `topology-${name}.mmd`), fleet.diagram);
      const rulesFile = path.join(path.dirname(stackFile), single ? 'alerts.rules.yml' : `alerts-${name}.rules.yml`);
      if (fleet.alertRules === '') fs.rmSync(rulesFile, { force: true });
      else fs.writeFileSync(rulesFile, fleet.alertRules);
    },
  });
}

/** The mesh and scripts documents (name to stored value) of the node groups `where` selects. */
function documentsOf(topology: Topology, where: (group: NodeGroup) => boolean): { meshDocuments: Record<string, string>; scriptsDocuments: Record<string, string> } {
  const groups = topology.nodeGroups.filter(where);
  return {
    meshDocuments: Object.fromEntries(groups.map((g) => [g.meshDocument, meshDocument(topology, g).value])),
    scriptsDocuments: Object.fromEntries(groups.map((g) => [g.scriptsDocument, groupScriptsDocument(topology, g).value])),
  };
}

/** The first of each key, in order. */
function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)));
}
