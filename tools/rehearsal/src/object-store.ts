/**
 * Stand-in for the cloud's object store (S3) and for the instance metadata service (IMDS) the fleet's pgBackRest gets
 * its role's credentials from. One test host of its own (image `s3-standin`: Debian 13 with moto's server) on a planned
 * address of the rehearsal network serves:
 *   - S3 over TLS on :443 (moto's server behind nginx, which speaks TLS and HTTP/1.1 as S3 does), with a certificate for `s3.<region>.amazonaws.com` and
 *     `*.s3.<region>.amazonaws.com` of each AWS region of the stack, signed by a rehearsal CA of its own (standing in
 *     for the public CAs Amazon's certificates chain to). Every host trusts it through its system CA store and resolves
 *     those names to the stand-in through /etc/hosts, both written into its root disk before it boots: the rendered
 *     pgBackRest configuration is used unchanged (its endpoint, virtual-host style URLs, TLS verification on).
 *   - IMDSv2 on 169.254.169.254:80 (assets/standin/imds.py): a session token is required (PUT /latest/api/token),
 *     as on the fleet's instances (`http_tokens = required`), and each host gets the credentials of its own
 *     instance's role (from the stack: aws_instance.iam_instance_profile), told apart by its source address.
 * The buckets are created as Terraform would (the stack's aws_s3_bucket resources; without them the buckets the
 * machines' pgBackRest configurations name, else the topology's naming `<fleet>-backup-<region>`).
 * GCS is not stood in: it is rendered and checked by the schema and unit tests only.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { assetPath } from './assets';
import { RehearsalFleet } from './fleet';
import { TestHosts } from './hosts';
import { formatIp, hostsFromTop, parseCidr } from './ipv4';
import { makeFleetCa } from './secrets';
import { run, waitFor } from './shell';
import { SynthesizedStack } from './stack';

/** The instance metadata service's address (every EC2 instance reaches it link-locally). */
export const IMDS_IP = '169.254.169.254';
/** Where the rendered pgBackRest configuration lives on a machine (the contract of issue 14). */
export const PGBACKREST_CONF = '/etc/pgbackrest/pgbackrest.conf';

export interface StandInBucket {
  readonly name: string;
  readonly region: string;
  /** Versioning on (an aws_s3_bucket_versioning of the stack says Enabled). */
  readonly versioning: boolean;
  /** Where the rehearsal found it. */
  readonly from: 'aws_s3_bucket' | 'pgbackrest.conf' | 'naming';
}

export interface ObjectStorePlan {
  /** The stand-in host's name. */
  readonly name: string;
  readonly ip: string;
  readonly subnet: string;
  /** AWS regions the stand-in serves (sorted). */
  readonly regions: string[];
  readonly buckets: StandInBucket[];
  /** Names resolved to the stand-in on every host: each region's endpoint and each bucket's virtual host. */
  readonly hostnames: string[];
  /** Names the certificate carries (subjectAltName DNS entries). */
  readonly certificateNames: string[];
  /** Instance role of each host's address (the IMDS stand-in answers each host with its own role). */
  readonly roles: Record<string, string>;
}

type Resources = Record<string, Record<string, Record<string, unknown>>>;

function resourcesOf(stack: SynthesizedStack): { resources: Resources; providers: Record<string, unknown>[] } {
  const json = JSON.parse(readFileSync(stack.file, 'utf8')) as { resource?: Resources; provider?: { aws?: Record<string, unknown>[] } };
  return { resources: json.resource ?? {}, providers: json.provider?.aws ?? [] };
}

/** `[section]` -> key -> value of an INI text (pgBackRest's configuration format); later keys win. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[([^\]]+)\]$/.exec(line);
    if (s) {
      section = s[1].trim();
      out[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    (out[section] ??= {})[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** The region an AWS resource's provider reference (`aws.us-east-1`) names, from the stack's aliased providers. */
export function providerRegion(providerRef: unknown, providers: Record<string, unknown>[]): string | undefined {
  const alias = typeof providerRef === 'string' ? /^aws\.(.+)$/.exec(providerRef)?.[1] : undefined;
  const p = providers.find((x) => (alias === undefined ? x.alias === undefined : x.alias === alias));
  return typeof p?.region === 'string' ? p.region : undefined;
}

/** The pgBackRest configuration a machine's user-data (or its scripts document) writes, parsed; undefined when none. */
export function pgbackrestConfOf(m: { config: { writeFiles: { path: string; content: string }[] } }): Record<string, Record<string, string>> | undefined {
  const f = m.config.writeFiles.find((x) => x.path === PGBACKREST_CONF);
  return f ? parseIni(f.content) : undefined;
}

/**
 * The buckets to create. Terraform's own (aws_s3_bucket with a literal `bucket`, its region from its provider) come
 * first; then any bucket a machine's pgBackRest configuration names (`repo1-s3-bucket`, `repo1-s3-region`); with
 * neither, the topology's naming `<fleet>-backup-<region>` for each AWS region of the fleet's providers.
 */
export function bucketsOf(resources: Resources, providers: Record<string, unknown>[], confs: Record<string, Record<string, string>>[],
  fleetName: string): StandInBucket[] {
  const found = new Map<string, StandInBucket>();
  const versioned = new Set(Object.values(resources.aws_s3_bucket_versioning ?? {})
    .filter((v) => ((v.versioning_configuration as { status?: string } | undefined)?.status ?? '') === 'Enabled')
    .map((v) => String(v.bucket ?? '')));
  for (const [id, r] of Object.entries(resources.aws_s3_bucket ?? {})) {
    const name = typeof r.bucket === 'string' && !r.bucket.includes('${') ? r.bucket : undefined;
    const region = providerRegion(r.provider, providers);
    if (!name || !region) continue;
    const isVersioned = [...versioned].some((ref) => ref === name || ref.includes(`aws_s3_bucket.${id}.`));
    found.set(name, { name, region, versioning: isVersioned, from: 'aws_s3_bucket' });
  }
  for (const conf of confs) {
    const g = conf.global ?? {};
    if (g['repo1-type'] !== 's3' || !g['repo1-s3-bucket'] || !g['repo1-s3-region']) continue;
    if (!found.has(g['repo1-s3-bucket'])) {
      found.set(g['repo1-s3-bucket'], { name: g['repo1-s3-bucket'], region: g['repo1-s3-region'], versioning: false, from: 'pgbackrest.conf' });
    }
  }
  if (found.size === 0) {
    for (const region of [...new Set(providers.map((p) => p.region).filter((r): r is string => typeof r === 'string'))]) {
      const name = `${fleetName}-backup-${region}`;
      found.set(name, { name, region, versioning: false, from: 'naming' });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Each region's S3 endpoint and each bucket's virtual host (what /etc/hosts maps to the stand-in; no wildcards there). */
export function s3Hostnames(regions: string[], buckets: StandInBucket[]): string[] {
  return [...new Set([
    ...regions.map((r) => `s3.${r}.amazonaws.com`),
    ...buckets.map((b) => `${b.name}.s3.${b.region}.amazonaws.com`),
  ])].sort();
}

/** The certificate's names: each region's endpoint and its virtual hosts (`*.s3.<region>.amazonaws.com`). */
export function certificateNames(regions: string[]): string[] {
  return regions.flatMap((r) => [`s3.${r}.amazonaws.com`, `*.s3.${r}.amazonaws.com`]);
}

/** The lines added to every host's /etc/hosts: the stand-in's address for each name. */
export function etcHostsBlock(ip: string, hostnames: string[]): string {
  return ['# rehearsal: the object store stand-in (tools/rehearsal/src/object-store.ts)', ...hostnames.map((h) => `${ip} ${h}`), ''].join('\n');
}

/**
 * The role of each AWS machine: its `iam_instance_profile` (a literal, or a reference to an aws_iam_instance_profile
 * whose `role` is literal or an aws_iam_role's name). A machine without one gets none (the IMDS stand-in answers 404,
 * as the service does for an instance without a role).
 */
export function instanceRoles(resources: Resources, machines: { address: string; privateIp: string }[]): Record<string, string> {
  const literalOr = (value: unknown, type: string, attr: string): string | undefined => {
    if (typeof value !== 'string') return undefined;
    if (!value.includes('${')) return value;
    const ref = new RegExp(`^\\$\\{${type}\\.([^.}]+)\\.(name|id)\\}$`).exec(value);
    const target = ref ? resources[type]?.[ref[1]] : undefined;
    const v = target?.[attr];
    return typeof v === 'string' ? v : undefined;
  };
  const roles: Record<string, string> = {};
  for (const m of machines) {
    const [type, id] = m.address.split('.');
    if (type !== 'aws_instance') continue;
    const profileRef = resources.aws_instance?.[id]?.iam_instance_profile;
    const profileId = typeof profileRef === 'string' ? /^\$\{aws_iam_instance_profile\.([^.}]+)\.(name|id)\}$/.exec(profileRef)?.[1] : undefined;
    const profile = profileId ? resources.aws_iam_instance_profile?.[profileId] : undefined;
    const role = profile ? literalOr(profile.role, 'aws_iam_role', 'name') ?? literalOr(profile.name, 'aws_iam_instance_profile', 'name')
      : literalOr(profileRef, 'aws_iam_instance_profile', 'name');
    if (role && !role.includes('${')) roles[m.privateIp] = role;
  }
  return roles;
}

/** A free address of `subnet`, from the top, that neither the stack nor the rehearsal's other endpoints use. */
export function freeAddress(subnet: string, taken: Set<string>): string {
  for (const candidate of hostsFromTop(parseCidr(subnet))) {
    const text = formatIp(candidate);
    if (!taken.has(text)) return text;
  }
  throw new Error(`rehearsal: no free address in ${subnet} for a stand-in host`);
}

/**
 * The object store stand-in of a stack, or undefined when no machine is on AWS or none backs up to S3 (the stack
 * renders no pgBackRest configuration and declares no bucket).
 */
export function planObjectStore(stack: SynthesizedStack, fleet: RehearsalFleet, taken: Set<string>): ObjectStorePlan | undefined {
  const aws = fleet.machines.filter((m) => m.machine.cloud === 'aws');
  if (aws.length === 0) return undefined;
  const { resources, providers } = resourcesOf(stack);
  const confs = aws.map(pgbackrestConfOf).filter((c): c is Record<string, Record<string, string>> => c !== undefined);
  if (confs.length === 0 && Object.keys(resources.aws_s3_bucket ?? {}).length === 0) return undefined;
  const buckets = bucketsOf(resources, providers, confs, fleet.name);
  const regions = [...new Set([
    ...buckets.map((b) => b.region),
    ...confs.map((c) => c.global?.['repo1-s3-region']).filter((r): r is string => !!r),
  ])].sort();
  const subnet = fleet.groups[0].clientSubnet;
  const ip = freeAddress(subnet, taken);
  return {
    name: `${fleet.name}-s3-standin`,
    ip,
    subnet,
    regions,
    buckets,
    hostnames: s3Hostnames(regions, buckets),
    certificateNames: certificateNames(regions),
    roles: instanceRoles(resources, aws.map((m) => ({ address: m.machine.address, privateIp: m.machine.privateIp }))),
  };
}

// ---------- running it ----------

/** Where the stand-in's CA lands in every host's system CA store (update-ca-certificates keeps it in the bundle). */
export const STANDIN_CA_PATH = '/usr/local/share/ca-certificates/dpg-rehearsal-cloud-services.crt';
const BUNDLE = 'etc/ssl/certs/ca-certificates.crt';
const MARKER = '# rehearsal: the object store stand-in';

export interface ObjectStoreCa {
  readonly cert: string;
  readonly key: string;
  /** `openssl x509 -hash` of the certificate (the /etc/ssl/certs/<hash>.0 link OpenSSL's CA directory lookup uses). */
  readonly subjectHash: string;
}

/**
 * The files a host's root disk gets before it boots: /etc/hosts with the stand-in's names, the CA in the system store
 * (the certificate under /usr/local/share/ca-certificates, appended to the bundle, and its hash link). Files the
 * machine itself changed since (a reboot) are kept: only what lacks the stand-in's entries is written.
 */
export function prepareRootForObjectStore(plan: ObjectStorePlan, ca: ObjectStoreCa, upper: string, rootfs: string): void {
  const hostsUpper = path.join(upper, 'etc/hosts');
  const current = existsSync(hostsUpper) ? readFileSync(hostsUpper, 'utf8') : existsSync(path.join(rootfs, 'etc/hosts')) ? readFileSync(path.join(rootfs, 'etc/hosts'), 'utf8') : '';
  mkdirSync(path.join(upper, 'etc/ssl/certs'), { recursive: true });
  if (!current.includes(MARKER)) writeFileSync(hostsUpper, `${current.replace(/\n*$/, '\n')}${etcHostsBlock(plan.ip, plan.hostnames)}`, { mode: 0o644 });
  const caFile = path.join(upper, STANDIN_CA_PATH.slice(1));
  mkdirSync(path.dirname(caFile), { recursive: true });
  writeFileSync(caFile, ca.cert, { mode: 0o644 });
  const bundleUpper = path.join(upper, BUNDLE);
  const bundle = existsSync(bundleUpper) ? readFileSync(bundleUpper, 'utf8') : existsSync(path.join(rootfs, BUNDLE)) ? readFileSync(path.join(rootfs, BUNDLE), 'utf8') : '';
  if (!bundle.includes(ca.cert.trim())) writeFileSync(bundleUpper, `${bundle.replace(/\n*$/, '\n')}${ca.cert.trim()}\n`, { mode: 0o644 });
  const link = path.join(upper, 'etc/ssl/certs', `${ca.subjectHash}.0`);
  rmSync(link, { force: true });
  symlinkSync(STANDIN_CA_PATH, link);
}

/** A CA of the stand-in's own and a server certificate for the plan's names, signed by it (openssl, EC P-256). */
export async function makeObjectStoreCertificates(plan: ObjectStorePlan): Promise<{ ca: ObjectStoreCa; cert: string; key: string }> {
  const ca = await makeFleetCa('rehearsal cloud services CA (stands in for the public CAs)');
  const work = mkdtempSync(path.join(tmpdir(), 'dpgr-s3-'));
  try {
    const f = (n: string) => path.join(work, n);
    writeFileSync(f('ca.crt'), ca.cert);
    writeFileSync(f('ca.key'), ca.key, { mode: 0o600 });
    writeFileSync(f('ext.cnf'), [
      'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth',
      `subjectAltName=${plan.certificateNames.map((n) => `DNS:${n}`).join(',')}`, '',
    ].join('\n'));
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', f('server.key')]);
    await run('openssl', ['req', '-new', '-key', f('server.key'), '-subj', `/CN=${plan.certificateNames[0]}`, '-out', f('server.csr')]);
    await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '7', '-sha256', '-extfile', f('ext.cnf'), '-out', f('server.crt')]);
    const hash = (await run('openssl', ['x509', '-hash', '-noout', '-in', f('ca.crt')])).stdout.trim();
    return { ca: { ...ca, subjectHash: hash }, cert: readFileSync(f('server.crt'), 'utf8'), key: readFileSync(f('server.key'), 'utf8') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Where moto's server listens inside the stand-in host (nginx terminates TLS in front of it). */
const MOTO_PORT = 5000;

/**
 * nginx in front of moto: TLS with the stand-in's certificate, HTTP/1.1 keep-alive and exact lengths as S3 answers
 * (werkzeug's development server closes each connection without a TLS close_notify: pgBackRest, reading a body up to
 * the connection's end, rightly refuses that as a truncated response), bodies streamed both ways, Host passed on
 * (moto tells virtual-host buckets by it).
 */
export function objectStoreNginxConf(plan: ObjectStorePlan): string {
  return [
    'daemon off;', 'worker_processes 1;', 'pid /run/dpg-s3-nginx.pid;', 'error_log /var/log/dpg-s3-nginx.error.log warn;',
    'events { worker_connections 512; }',
    'http {',
    '  access_log /var/log/dpg-s3-nginx.access.log;',
    '  server {',
    `    listen ${plan.ip}:443 ssl;`,
    '    ssl_certificate /etc/dpg-s3-standin/server.crt;',
    '    ssl_certificate_key /etc/dpg-s3-standin/server.key;',
    '    ssl_protocols TLSv1.2 TLSv1.3;',
    '    client_max_body_size 0;',
    '    location / {',
    `      proxy_pass http://127.0.0.1:${MOTO_PORT};`,
    '      proxy_http_version 1.1;',
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header Connection "";',
    '      proxy_request_buffering off;',
    '      proxy_buffering off;',
    '      proxy_read_timeout 600s;',
    '      proxy_send_timeout 600s;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The units the stand-in host runs (its systemd stand-in starts them). */
export function objectStoreUnits(): Record<string, string> {
  return {
    'dpg-s3-moto.service': [
      '[Unit]', 'Description=Rehearsal stand-in for S3 (moto_server)', '', '[Service]',
      `ExecStart=/usr/bin/moto_server -H 127.0.0.1 -p ${MOTO_PORT}`,
      'Restart=always', '', '[Install]', 'WantedBy=multi-user.target', '',
    ].join('\n'),
    'dpg-s3-tls.service': [
      '[Unit]', 'Description=Rehearsal stand-in for S3: TLS and HTTP/1.1 in front of moto_server (nginx)', '', '[Service]',
      'ExecStart=/usr/sbin/nginx -c /etc/dpg-s3-standin/nginx.conf',
      'Restart=always', '', '[Install]', 'WantedBy=multi-user.target', '',
    ].join('\n'),
    'dpg-imds-standin.service': [
      '[Unit]', 'Description=Rehearsal stand-in for the EC2 instance metadata service (IMDSv2)', '', '[Service]',
      `ExecStart=/usr/bin/python3 /usr/local/lib/dpg-rehearsal/imds.py ${IMDS_IP} 80 /etc/dpg-s3-standin/roles.json`,
      'Restart=always', '', '[Install]', 'WantedBy=multi-user.target', '',
    ].join('\n'),
  };
}

/** Creates the buckets as Terraform would (through the stand-in's own HTTPS endpoint: TLS, names and CA checked). */
export function createBucketsScript(plan: ObjectStorePlan): string {
  return [
    'import boto3, json',
    `buckets = json.loads(${JSON.stringify(JSON.stringify(plan.buckets.map((b) => ({ name: b.name, region: b.region, versioning: b.versioning }))))})`,
    'for b in buckets:',
    "    s3 = boto3.client('s3', region_name=b['region'], endpoint_url='https://s3.%s.amazonaws.com' % b['region'],",
    "                      aws_access_key_id='rehearsal-terraform', aws_secret_access_key='rehearsal-terraform',",
    "                      verify='/etc/ssl/certs/ca-certificates.crt')",
    "    args = {} if b['region'] == 'us-east-1' else {'CreateBucketConfiguration': {'LocationConstraint': b['region']}}",
    "    s3.create_bucket(Bucket=b['name'], **args)",
    "    s3.put_public_access_block(Bucket=b['name'], PublicAccessBlockConfiguration={'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': True})",
    "    if b['versioning']:",
    "        s3.put_bucket_versioning(Bucket=b['name'], VersioningConfiguration={'Status': 'Enabled'})",
    "    loc = s3.get_bucket_location(Bucket=b['name']).get('LocationConstraint') or 'us-east-1'",
    "    assert loc == b['region'], (b['name'], loc)",
    "    print('bucket %s in %s' % (b['name'], loc))",
    '',
  ].join('\n');
}

/**
 * Boots the stand-in host (its plan entry is among the hosts' plan), installs its certificate, roles and units, starts
 * S3 and IMDS, waits for both, and creates the buckets. Returns one line per bucket created.
 */
export async function startObjectStore(hosts: TestHosts, plan: ObjectStorePlan, certs: { cert: string; key: string },
  log: (line: string) => void): Promise<string[]> {
  const t0 = Date.now();
  await hosts.boot(plan.name);
  const put = async (file: string, content: string, mode: string) => {
    await hosts.exec(plan.name, ['sh', '-c', `mkdir -p "$(dirname "$0")" && cat > "$0" && chmod ${mode} "$0"`, file], { input: content });
  };
  await put('/etc/dpg-s3-standin/server.crt', certs.cert, '0644');
  await put('/etc/dpg-s3-standin/server.key', certs.key, '0600');
  await put('/etc/dpg-s3-standin/roles.json', `${JSON.stringify(plan.roles, null, 2)}\n`, '0644');
  await put('/etc/dpg-s3-standin/nginx.conf', objectStoreNginxConf(plan), '0644');
  await put('/usr/local/lib/dpg-rehearsal/imds.py', readFileSync(assetPath('standin/imds.py'), 'utf8'), '0755');
  for (const [unit, text] of Object.entries(objectStoreUnits())) {
    await put(`/etc/systemd/system/${unit}`, text, '0644');
    await hosts.exec(plan.name, ['systemctl', 'start', unit]);
  }
  await waitFor('the S3 stand-in to answer over TLS', 60_000, async () => {
    const r = await hosts.exec(plan.name, ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `https://s3.${plan.regions[0]}.amazonaws.com/`], { allowFail: true, timeoutMs: 10_000 });
    return r.code === 0 ? true : undefined;
  }, 500);
  await waitFor('the IMDS stand-in to answer', 30_000, async () => {
    const r = await hosts.exec(plan.name, ['curl', '-sS', '-o', '/dev/null', '-X', 'PUT', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 60', `http://${IMDS_IP}/latest/api/token`], { allowFail: true, timeoutMs: 10_000 });
    return r.code === 0 ? true : undefined;
  }, 500);
  const created = await hosts.exec(plan.name, ['python3', '-c', createBucketsScript(plan)], { allowFail: true, timeoutMs: 120_000 });
  if (created.code !== 0) throw new Error(`object store stand-in: creating the buckets failed: ${(created.stderr || created.stdout).trim().slice(-1500)}`);
  const lines = created.stdout.trim().split('\n').filter(Boolean);
  log(`object store stand-in: ${plan.name} (${plan.ip}) serves S3 over TLS for ${plan.regions.join(', ')} and IMDSv2 on ${IMDS_IP} ` +
    `after ${((Date.now() - t0) / 1000).toFixed(1)} s; ${lines.join('; ')}`);
  return lines;
}
