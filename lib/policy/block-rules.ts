/**
 * The rules over synthesized Terraform blocks. Each is a small pure function of one block (type and
 * config as in the Terraform JSON) and the fleet context; they work on any stack, whoever wrote it.
 */
import { BUCKET_RULES } from './bucket-rules';
import { IBlockRule, PolicyContext, PolicyFinding, PolicyLevel } from './types';
import {
  classifySource, describePorts, fleetPortsOpened, INGRESS_TYPES, ingressOf, insideAny, isIpv6, opensEveryPort,
  prefixOf,
} from './network';
import { MESH_PATRONI_FILE, meshDocumentFiles, scriptsDocumentFiles, secretsInConfig } from './secrets';
import { tlsProblemsInBootText, tlsProblemsInDocuments, tlsProblemsInMeshPatroni } from './tls';
import { ConfigDocument, heredocsOf, MACHINE_TYPES, userDataOf } from './user-data';
import { PORTS } from '../topology/topology';
import { summarizeCidrs } from '../net/cidr-summary';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

/** A nested block: cdktf writes single blocks as objects, lists as arrays; take the first either way. */
function block(value: unknown): Record<string, unknown> | undefined {
  return Array.isArray(value) ? record(value[0]) : record(value);
}

function blocks(value: unknown): Record<string, unknown>[] {
  return (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value])
    .map(record).filter((b): b is Record<string, unknown> => b !== undefined);
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function finding(message: string): PolicyFinding {
  return { message };
}

/**
 * Ranges a fleet port may be opened to inside a fleet: the fleet's own CIDRs (and client CIDRs for Postgres), summarized
 * as the security groups' rules are (two adjacent subnets of a network a group brings become one rule).
 */
function allowedFleetSources(fleet: NonNullable<PolicyContext['fleet']>, port: number): string[] {
  const own = [...fleet.network.fleetCidrs, fleet.network.fleetCidr];
  if (port === PORTS.postgres) return summarizeCidrs([...own, ...fleet.network.clientCidrs]);
  // The exporters (monitoring): also the declared scrape ranges (a topology from before monitoring has none).
  if (port === PORTS.postgresExporter || port === PORTS.nodeExporter) return summarizeCidrs([...own, ...(fleet.monitoring?.scrapeCidrs ?? [])]);
  return summarizeCidrs(own);
}

export const FLEET_PORTS_EXPOSED: IBlockRule = {
  kind: 'block',
  id: 'DPG-P001',
  level: PolicyLevel.ERROR,
  title: 'Database, Patroni or etcd port reachable from outside',
  explanation: 'Postgres (5432), the Patroni REST API (8008), etcd (2379, 2380) and the Prometheus exporters (9100, 9187) must be ' +
    "reachable only from private ranges: the fleet's own CIDRs (and, for 5432, the declared client CIDRs; for the exporters, " +
    'monitoring.scrapeCidrs). A public source, 0.0.0.0/0 or ::/0 exposes them to the internet.',
  fix: "open these ports only to the fleet's private CIDRs (network.clientCidrs for application access to 5432)",
  types: [...INGRESS_TYPES],
  check: (b, context) => ingressOf(b.type, b.config).flatMap((entry) => {
    const ports = fleetPortsOpened(entry);
    if (ports.length === 0) return [];
    return entry.cidrs.flatMap((source) => {
      const kind = classifySource(source);
      if (kind === 'public') {
        return [finding(`${entry.where} opens ${entry.protocol} ${describePorts(ports)} to ${source}, which is not a private range`)];
      }
      if (kind === 'private' && context.fleet && !isIpv6(source)) {
        const outside = ports.filter((p) => !insideAny(source, allowedFleetSources(context.fleet!, p)));
        if (outside.length > 0) {
          return [finding(`${entry.where} opens ${entry.protocol} ${describePorts(outside)} to ${source}, outside fleet '${context.fleet.fleetName}' ` +
            `(${[...context.fleet.network.fleetCidrs, ...context.fleet.network.clientCidrs].join(', ')})`)];
        }
      }
      return [];
    });
  }),
};

export const PUBLIC_ADDRESS: IBlockRule = {
  kind: 'block',
  id: 'DPG-P002',
  level: PolicyLevel.ERROR,
  title: 'Public IP on a machine',
  explanation: 'A database or etcd machine with a public or external IP is one firewall mistake away from the internet. ' +
    'Members talk over private addresses, peering and VPN; operators reach them through a bastion, SSM or IAP.',
  fix: 'remove associate_public_ip_address / access_config (and any Elastic IP on the machine); reach members privately',
  types: ['aws_instance', 'aws_launch_template', 'aws_eip', 'aws_eip_association', 'google_compute_instance',
    'google_compute_instance_template', 'google_compute_region_instance_template', 'google_compute_instance_from_template'],
  check: (b) => {
    const c = b.config;
    switch (b.type) {
      case 'aws_instance':
        return isTrue(c.associate_public_ip_address) ? [finding('associate_public_ip_address is true')] : [];
      case 'aws_launch_template':
        return blocks(c.network_interfaces)
          .map((ni, i) => (isTrue(ni.associate_public_ip_address) ? finding(`network_interfaces[${i}].associate_public_ip_address is true`) : undefined))
          .filter((x): x is PolicyFinding => x !== undefined);
      case 'aws_eip':
        return c.instance || c.network_interface ? [finding(`an Elastic IP is attached to ${c.instance ? `instance ${c.instance}` : `network interface ${c.network_interface}`}`)] : [];
      case 'aws_eip_association':
        return c.instance_id || c.network_interface_id ? [finding(`an Elastic IP is associated with ${c.instance_id ?? c.network_interface_id}`)] : [];
      default:
        return blocks(c.network_interface).flatMap((ni, i) => {
          const out: PolicyFinding[] = [];
          if (blocks(ni.access_config).length > 0) {
            out.push(finding(`network_interface[${i}].access_config gives the machine an external IP`));
          }
          if (blocks(ni.ipv6_access_config).length > 0) out.push(finding(`network_interface[${i}].ipv6_access_config gives the machine an external IPv6 address`));
          return out;
        });
    }
  },
};

export const INTERNET_FACING: IBlockRule = {
  kind: 'block',
  id: 'DPG-P003',
  level: PolicyLevel.WARNING,
  title: 'Internet-facing subnet or load balancer',
  explanation: 'A subnet that maps public IPs on launch gives every machine placed in it a public address; a load balancer ' +
    'that is not internal (AWS `internal` unset, GCP `load_balancing_scheme` EXTERNAL, the default) faces the internet.',
  fix: 'set map_public_ip_on_launch = false, internal = true (AWS) or load_balancing_scheme = "INTERNAL" (GCP)',
  types: ['aws_subnet', 'aws_lb', 'aws_alb', 'google_compute_forwarding_rule'],
  check: (b) => {
    const c = b.config;
    if (b.type === 'aws_subnet') return isTrue(c.map_public_ip_on_launch) ? [finding('map_public_ip_on_launch is true')] : [];
    if (b.type === 'aws_lb' || b.type === 'aws_alb') return isTrue(c.internal) ? [] : [finding('internal is not true, so the load balancer is internet-facing')];
    const scheme = String(c.load_balancing_scheme ?? 'EXTERNAL');
    return scheme.startsWith('EXTERNAL') ? [finding(`load_balancing_scheme is ${scheme}`)] : [];
  },
};

export const UNENCRYPTED_DISK: IBlockRule = {
  kind: 'block',
  id: 'DPG-P004',
  level: PolicyLevel.ERROR,
  title: 'Unencrypted disk',
  explanation: 'EBS volumes are unencrypted unless asked (or unless the account enables encryption by default, which a stack ' +
    'cannot see). Database files, WAL and etcd data must be encrypted at rest. Google persistent disks are always encrypted.',
  fix: 'set encrypted = true on every EBS volume, root_block_device and launch template mapping',
  types: ['aws_instance', 'aws_ebs_volume', 'aws_launch_template'],
  check: (b) => {
    const c = b.config;
    if (b.type === 'aws_ebs_volume') return isTrue(c.encrypted) ? [] : [finding('encrypted is not true')];
    if (b.type === 'aws_instance') {
      const out: PolicyFinding[] = [];
      const root = block(c.root_block_device);
      if (!root) out.push(finding("root_block_device is not declared, so the root volume takes the image's default (unencrypted)"));
      else if (!isTrue(root.encrypted)) out.push(finding('root_block_device.encrypted is not true'));
      blocks(c.ebs_block_device).forEach((d, i) => {
        if (!isTrue(d.encrypted)) out.push(finding(`ebs_block_device[${i}] (${String(d.device_name ?? '?')}).encrypted is not true`));
      });
      return out;
    }
    const mappings = blocks(c.block_device_mappings);
    if (mappings.length === 0) return [finding("no block_device_mappings, so the root volume takes the image's default (unencrypted)")];
    return mappings.flatMap((m, i) => {
      const ebs = block(m.ebs);
      return ebs && !isTrue(ebs.encrypted) ? [finding(`block_device_mappings[${i}].ebs.encrypted is not true`)] : [];
    });
  },
};

export const IMDS_V1: IBlockRule = {
  kind: 'block',
  id: 'DPG-P005',
  level: PolicyLevel.ERROR,
  title: 'IMDSv1 allowed',
  explanation: "Without session tokens, any SSRF or proxy on the machine can read the instance role's credentials from the " +
    'metadata service; the members fetch database secrets with that role.',
  fix: 'set metadata_options { http_tokens = "required" } (or http_endpoint = "disabled")',
  types: ['aws_instance', 'aws_launch_template'],
  check: (b) => {
    const options = block(b.config.metadata_options);
    if (!options) return [finding('metadata_options is not declared, so IMDSv1 is allowed')];
    if (String(options.http_endpoint ?? '') === 'disabled') return [];
    return options.http_tokens === 'required' ? [] : [finding(`metadata_options.http_tokens is ${JSON.stringify(options.http_tokens ?? null)}, not "required"`)];
  },
};

export const SECRET_VALUE: IBlockRule = {
  kind: 'block',
  id: 'DPG-P006',
  level: PolicyLevel.ERROR,
  title: 'Secret value in the synthesized configuration',
  explanation: 'Terraform JSON and user-data are read by CI logs, plan output, the instance metadata service and anyone with ' +
    'describe permissions. Secrets belong in the secret store; machines fetch them at boot with their own identity.',
  fix: 'keep only secret names in the configuration; generate values with random_password or store them in Secrets Manager / Secret Manager and read them at boot',
  check: (b) => secretsInConfig(b.config).map(finding),
};

/** Where a secret store resource holds its value (a mesh document is stored there). */
const SECRET_VALUE_ATTRIBUTES: Record<string, string> = {
  aws_secretsmanager_secret_version: 'secret_string',
  google_secret_manager_secret_version: 'secret_data',
};

export const TLS_OFF: IBlockRule = {
  kind: 'block',
  id: 'DPG-P007',
  level: PolicyLevel.ERROR,
  title: 'TLS off on a channel',
  explanation: 'etcd (client and peer), Patroni (to etcd and its REST API), Postgres and replication connections cross ' +
    'zones, regions and clouds: each must use TLS with certificates, and etcd must require client certificates.',
  fix: 'use https URLs with --client-cert-auth / --peer-client-cert-auth for etcd, etcd3.protocol: https with cacert/cert/key and restapi.certfile for Patroni, ssl: on and hostssl in pg_hba, sslmode=verify-full in DSNs',
  types: [...MACHINE_TYPES, ...Object.keys(SECRET_VALUE_ATTRIBUTES)],
  check: (b) => [
    ...userDataOf(b.type, b.config).flatMap((source) => tlsProblemsInBootText(source)),
    ...meshDocumentTlsProblems(b.type, b.config),
  ].map(finding),
};

/**
 * A mesh document carries the pg_hba that the group's leader keeps in Patroni's dynamic configuration; a scripts
 * document the scripts and units the group's machines run, checked as the files of a user-data are.
 */
function meshDocumentTlsProblems(type: string, config: Record<string, unknown>): string[] {
  const attribute = SECRET_VALUE_ATTRIBUTES[type];
  const value = attribute === undefined ? undefined : config[attribute];
  if (typeof value !== 'string') return [];
  const part = meshDocumentFiles(value)?.[MESH_PATRONI_FILE];
  if (part !== undefined) return tlsProblemsInMeshPatroni(part);
  const scripts = scriptsDocumentFiles(value);
  if (scripts === undefined) return [];
  return tlsProblemsInDocuments(Object.entries(scripts).flatMap(([path, text]) => {
    const doc: ConfigDocument = { where: `${attribute} (scripts document) ${path}`, path, text, script: /^#!/.test(text) || /\.sh$|\/s?bin\//.test(path) };
    return doc.script ? [doc, ...heredocsOf(doc)] : [doc];
  }));
}

export const ALL_PORTS_OPEN: IBlockRule = {
  kind: 'block',
  id: 'DPG-P008',
  level: PolicyLevel.ERROR,
  title: 'Security group or firewall rule opens every port',
  explanation: 'A rule for all protocols or all ports from an address range opens services nobody reviewed (SSH, ' +
    'exporters, debug ports). Each rule should name the ports it is for.',
  fix: 'list the protocol and ports the rule is for (e.g. tcp 5432, 8008, 2379-2380)',
  types: [...INGRESS_TYPES],
  check: (b) => ingressOf(b.type, b.config)
    .filter((entry) => opensEveryPort(entry) && entry.cidrs.length > 0)
    .map((entry) => finding(`${entry.where} opens ${entry.protocol === 'all' ? 'all protocols' : `every ${entry.protocol} port`} to ${entry.cidrs.join(', ')}`)),
};

/** Port ranges wider than this, holding a fleet port, are wider than the fleet needs. */
const MAX_FLEET_RANGE_WIDTH = 16;

export const WIDE_FLEET_RULE: IBlockRule = {
  kind: 'block',
  id: 'DPG-P009',
  level: PolicyLevel.WARNING,
  title: 'Rule on a database port wider than needed',
  explanation: 'A source of /8 or wider, or a port range of many ports, on a database/Patroni/etcd port allows far more than ' +
    'the fleet needs: the members and the declared clients.',
  fix: 'narrow the source to the node group and client CIDRs and the ports to 5432, 8008, 2379, 2380',
  types: [...INGRESS_TYPES],
  check: (b) => ingressOf(b.type, b.config).flatMap((entry) => {
    const ports = fleetPortsOpened(entry);
    if (ports.length === 0 || opensEveryPort(entry)) return [];
    const out: PolicyFinding[] = [];
    const wideSources = entry.cidrs.filter((s) => classifySource(s) === 'private' && (prefixOf(s) ?? 128) <= 8);
    if (wideSources.length > 0) out.push(finding(`${entry.where} opens ${describePorts(ports)} to ${wideSources.join(', ')} (/8 or wider)`));
    const wideRanges = entry.ports.filter((r) => r.to - r.from >= MAX_FLEET_RANGE_WIDTH && ports.some((p) => r.from <= p && p <= r.to));
    for (const r of wideRanges) out.push(finding(`${entry.where} opens ports ${r.from}-${r.to} (${r.to - r.from + 1} ports) around ${describePorts(ports)}`));
    return out;
  }),
};

/** Every rule over Terraform blocks, in id order. */
export const BLOCK_RULES: readonly IBlockRule[] = [
  FLEET_PORTS_EXPOSED, PUBLIC_ADDRESS, INTERNET_FACING, UNENCRYPTED_DISK, IMDS_V1, SECRET_VALUE, TLS_OFF, ALL_PORTS_OPEN,
  WIDE_FLEET_RULE, ...BUCKET_RULES,
];
