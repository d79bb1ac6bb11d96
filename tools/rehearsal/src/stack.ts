/**
 * Reads a synthesized stack (`cdktf.out/stacks/NAME/cdk.tf.json`): every database machine with its planned private
 * IP and the exact user-data bytes the cloud would receive (gzip/base64 decoded), the fleet's subnets, and the
 * secret names. Nothing here imports the library: the rehearsal judges what the library produced.
 */
import { existsSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';

export interface StackMachine {
  /** Machine name (the `Name` tag / instance name). */
  readonly name: string;
  /** Terraform address, e.g. `aws_instance.rehearse_group-a_..._machine_457D3394`. */
  readonly address: string;
  readonly cloud: 'aws' | 'gcp';
  readonly privateIp: string;
  /** Node group from the `distributed-postgres:node-group` tag / label ('' when absent). */
  readonly nodeGroup: string;
  /** Fleet from the `distributed-postgres:fleet` tag / label ('' when absent). */
  readonly fleet: string;
  /** Decoded user-data text. */
  readonly userData: string;
  /** How the JSON carried it. */
  readonly userDataEncoding: 'plain' | 'base64' | 'gzip+base64';
  /**
   * The machine's AWS `tags` / GCP `labels` (literal values only). The image it boots is read from them
   * (`distributed-postgres:image`, `:package-source`, `:postgres`, `:engine`; GCP label keys with `-`), see images.ts.
   */
  readonly tags: Record<string, string>;
}

export interface SynthesizedStack {
  readonly file: string;
  readonly machines: StackMachine[];
  /** Every subnet CIDR of the fleet (AWS subnets, GCP subnetworks). */
  readonly subnets: string[];
  /** Secret names (deduplicated across regions), sorted. */
  readonly secretNames: string[];
  /** Secret names that get a value from Terraform (generated passwords); the others are filled by an operator. */
  readonly generatedSecretNames: string[];
  /** Secrets whose value the stack itself holds, not a Terraform expression (the mesh documents), by name. */
  readonly literalSecretValues: Record<string, string>;
  /** Every IPv4 address written anywhere in the JSON (so the rehearsal's own client addresses avoid them). */
  readonly addressesInUse: Set<string>;
}

type Resources = Record<string, Record<string, Record<string, unknown>>>;

/** `dir` may be the stack directory or the cdk.tf.json itself. */
export function stackFile(dirOrFile: string): string {
  const file = existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? path.join(dirOrFile, 'cdk.tf.json') : dirOrFile;
  if (!existsSync(file)) {
    throw new Error(`rehearsal: no synthesized stack at ${file}. Fix: run \`npm run synth\` and pass cdktf.out/stacks/<stack name>.`);
  }
  return file;
}

export function decodeUserData(value: string, base64: boolean): { text: string; encoding: StackMachine['userDataEncoding'] } {
  if (!base64) return { text: value, encoding: 'plain' };
  const raw = Buffer.from(value, 'base64');
  if (raw[0] === 0x1f && raw[1] === 0x8b) return { text: gunzipSync(raw).toString('utf8'), encoding: 'gzip+base64' };
  return { text: raw.toString('utf8'), encoding: 'base64' };
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The string values of a tag/label map that are literals (a Terraform expression is known only after apply). */
function literalStrings(map: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).filter((e): e is [string, string] => typeof e[1] === 'string' && !e[1].includes('${')));
}

function requireLiteral(what: string, value: string): string {
  if (value.includes('${')) {
    throw new Error(`rehearsal: ${what} is a Terraform expression (${value.slice(0, 80)}), known only after apply. ` +
      'The rehearsal (and a machine booting from a static plan) needs a literal value.');
  }
  return value;
}

export function readSynthesizedStack(dirOrFile: string): SynthesizedStack {
  const file = stackFile(dirOrFile);
  const text = readFileSync(file, 'utf8');
  const json = JSON.parse(text) as { resource?: Resources };
  const resources: Resources = json.resource ?? {};
  const machines: StackMachine[] = [];
  for (const [id, r] of Object.entries(resources.aws_instance ?? {})) {
    const tags = (r.tags ?? {}) as Record<string, string>;
    const address = `aws_instance.${id}`;
    const base64 = typeof r.user_data_base64 === 'string';
    const raw = str(base64 ? r.user_data_base64 : r.user_data);
    if (!raw) continue;
    const { text: userData, encoding } = decodeUserData(requireLiteral(`${address}.user_data`, raw), base64);
    machines.push({
      name: requireLiteral(`${address}.tags.Name`, str(tags.Name) || id),
      address,
      cloud: 'aws',
      privateIp: requireLiteral(`${address}.private_ip`, str(r.private_ip)),
      nodeGroup: str(tags['distributed-postgres:node-group']),
      fleet: str(tags['distributed-postgres:fleet']),
      userData,
      userDataEncoding: encoding,
      tags: literalStrings(tags),
    });
  }
  for (const [id, r] of Object.entries(resources.google_compute_instance ?? {})) {
    const address = `google_compute_instance.${id}`;
    const metadata = (r.metadata ?? {}) as Record<string, string>;
    const labels = (r.labels ?? {}) as Record<string, string>;
    const nic = ((r.network_interface ?? []) as Record<string, unknown>[])[0] ?? {};
    const userData = str(metadata['user-data']);
    if (!userData) continue;
    machines.push({
      name: requireLiteral(`${address}.name`, str(r.name) || id),
      address,
      cloud: 'gcp',
      privateIp: requireLiteral(`${address}.network_interface[0].network_ip`, str(nic.network_ip)),
      nodeGroup: str(labels['distributed-postgres-node-group'] ?? labels.node_group),
      fleet: str(labels['distributed-postgres-fleet'] ?? labels.fleet),
      userData: requireLiteral(`${address}.metadata.user-data`, userData),
      userDataEncoding: 'plain',
      tags: literalStrings(labels),
    });
  }
  if (machines.length === 0) throw new Error(`rehearsal: ${file} has no machine with user-data (aws_instance / google_compute_instance).`);
  for (const m of machines) {
    if (!m.privateIp) throw new Error(`rehearsal: ${m.address} has no planned private IP (private_ip / network_ip); the rehearsal needs static addresses.`);
  }
  machines.sort((a, b) => a.name.localeCompare(b.name));
  const subnets = [
    ...Object.values(resources.aws_subnet ?? {}).map((r) => str(r.cidr_block)),
    ...Object.values(resources.google_compute_subnetwork ?? {}).map((r) => str(r.ip_cidr_range)),
  ].filter((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c));
  const secrets = [
    ...Object.entries(resources.aws_secretsmanager_secret ?? {}).map(([id, r]) => ({ id: `aws_secretsmanager_secret.${id}`, name: str(r.name) })),
    ...Object.entries(resources.google_secret_manager_secret ?? {}).map(([id, r]) => ({ id: `google_secret_manager_secret.${id}`, name: str(r.secret_id) })),
  ].filter((s) => s.name);
  const versions = [
    ...Object.values(resources.aws_secretsmanager_secret_version ?? {}).map((r) => str(r.secret_id)),
    ...Object.values(resources.google_secret_manager_secret_version ?? {}).map((r) => str(r.secret)),
  ].join('\n');
  const generated = secrets.filter((s) => versions.includes(`${s.id}.`)).map((s) => s.name);
  // Values Terraform stores as they are (mesh documents): the stand-in secret store holds them as they are too.
  const literalSecretValues: Record<string, string> = {};
  const versionValues = [
    ...Object.values(resources.aws_secretsmanager_secret_version ?? {}).map((r) => ({ ref: str(r.secret_id), value: r.secret_string })),
    ...Object.values(resources.google_secret_manager_secret_version ?? {}).map((r) => ({ ref: str(r.secret), value: r.secret_data })),
  ];
  for (const { ref, value } of versionValues) {
    const secret = secrets.find((s) => ref.includes(`${s.id}.`));
    if (secret && typeof value === 'string' && !value.includes('${')) literalSecretValues[secret.name] = value;
  }
  return {
    file,
    machines,
    subnets: [...new Set(subnets)].sort(),
    secretNames: [...new Set(secrets.map((s) => s.name))].sort(),
    generatedSecretNames: [...new Set(generated)].sort(),
    literalSecretValues,
    addressesInUse: new Set(text.match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g) ?? []),
  };
}
