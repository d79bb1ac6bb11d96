/**
 * What the rehearsal needs to know about the fleet, read from the synthesized stack and the machines' user-data
 * only (the same documents an operator would read): node groups and their members, the Patroni settings (scope,
 * REST API, superuser, timing), the database, the replication engine and the geoshards.
 */
import { gunzipSync } from 'zlib';
import { parse } from 'yaml';
import { CloudConfig, parseCloudConfig } from './cloud-config';
import { formatIp, hostsFromTop, parseCidr, subnetOf } from './ipv4';
import { caSecretOf } from './secrets';
import { StackMachine, SynthesizedStack } from './stack';

export interface PatroniView {
  readonly scope: string;
  readonly name: string;
  readonly restPort: number;
  readonly restTls: boolean;
  readonly restUser?: string;
  /** Secret holding the REST API password (from the `{{secret:NAME}}` placeholder), if any. */
  readonly restSecret?: string;
  readonly superuser: string;
  readonly superuserSecret?: string;
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
  readonly synchronousMode: boolean;
  readonly preloadLibraries: string;
}

export interface FleetMachine {
  readonly machine: StackMachine;
  readonly config: CloudConfig;
  /** Set for Postgres members. */
  readonly patroni?: PatroniView;
  readonly runsEtcd: boolean;
  /** The files of the mesh document the machine follows (named in its user-data), joined; '' when none. */
  readonly documentText: string;
}

export interface FleetGroup {
  /** Node group name. */
  readonly name: string;
  /** Postgres members, in name order. */
  readonly members: FleetMachine[];
  /** Every machine of the group (members and dedicated etcd machines). */
  readonly machines: FleetMachine[];
  readonly subnets: string[];
  /** Address of the rehearsal's client in this group (an unused address of the group's first subnet). */
  readonly clientIp: string;
  readonly clientSubnet: string;
}

export interface GeoshardView {
  /** Parent table and partition, schema-qualified. */
  readonly table: string;
  readonly partition: string;
  readonly values: string[];
  /** Node groups whose user-data creates the partition (the geography). */
  readonly groups: string[];
}

export interface DeltaApplyColumnView {
  /** Qualified table, e.g. `public.accounts`. */
  readonly table: string;
  readonly column: string;
}

export interface RehearsalFleet {
  readonly name: string;
  readonly groups: FleetGroup[];
  readonly machines: FleetMachine[];
  readonly database: string;
  readonly superuser: string;
  readonly superuserSecret: string;
  readonly restPort: number;
  readonly restTls: boolean;
  readonly restUser?: string;
  readonly restSecret?: string;
  readonly timing: { ttl: number; loopWait: number; retryTimeout: number };
  /** Patroni's synchronous_mode: a healthy group then has a synchronous standby. */
  readonly synchronousMode: boolean;
  readonly engine: 'spock' | 'pglogical' | 'native';
  /** Tables every node group replicates to every other (schema-qualified). */
  readonly globalTables: string[];
  /** The global table the writers insert into: the first one that is not a delta-apply table. */
  readonly writerTable: string;
  /** Columns the engine applies as deltas (Spock), from the rendered `delta_apply_function` settings. */
  readonly deltaApplyColumns: DeltaApplyColumnView[];
  /** Whether members carry snowflake node ids (the `snowflake` extension is preloaded). */
  readonly snowflakeIds: boolean;
  readonly geoshards: GeoshardView[];
  readonly secretNames: string[];
  /** Secret values the stack itself holds (the mesh documents), by name: the stand-in store gets them as they are. */
  readonly literalSecretValues: Record<string, string>;
  readonly caSecret: string;
  readonly subnets: string[];
}

const SECRET = /^\{\{secret:([A-Za-z0-9_-]+)\}\}$/;

function secretName(value: unknown): string | undefined {
  return typeof value === 'string' ? SECRET.exec(value)?.[1] : undefined;
}

/** The Patroni configuration among a machine's files: a YAML document with `scope`, `postgresql` and `restapi`. */
export function patroniViewOf(config: CloudConfig): PatroniView | undefined {
  for (const file of config.writeFiles) {
    if (!/\.ya?ml(\.template)?$/.test(file.path)) continue;
    let doc: Record<string, any>;
    try {
      doc = parse(file.content) as Record<string, any>;
    } catch {
      continue;
    }
    if (!doc || typeof doc !== 'object' || !doc.scope || !doc.postgresql || !doc.restapi) continue;
    const rest = doc.restapi as Record<string, any>;
    const auth = (doc.postgresql.authentication ?? {}) as Record<string, any>;
    const dcs = (doc.bootstrap?.dcs ?? {}) as Record<string, any>;
    const params = { ...(dcs.postgresql?.parameters ?? {}), ...(doc.postgresql.parameters ?? {}) } as Record<string, unknown>;
    return {
      scope: String(doc.scope),
      name: String(doc.name),
      restPort: Number(String(rest.listen ?? ':8008').split(':').pop()),
      restTls: Boolean(rest.certfile),
      restUser: rest.authentication?.username,
      restSecret: secretName(rest.authentication?.password),
      superuser: String(auth.superuser?.username ?? 'postgres'),
      superuserSecret: secretName(auth.superuser?.password),
      ttl: Number(dcs.ttl ?? 30),
      loopWait: Number(dcs.loop_wait ?? 10),
      retryTimeout: Number(dcs.retry_timeout ?? 10),
      synchronousMode: dcs.synchronous_mode === true,
      preloadLibraries: String(params.shared_preload_libraries ?? ''),
    };
  }
  return undefined;
}

function runsEtcd(config: CloudConfig): boolean {
  return config.writeFiles.some((f) => /initial-cluster|ETCD_INITIAL_CLUSTER/.test(f.content));
}

function allText(m: FleetMachine): string {
  return [m.config.text, ...m.config.writeFiles.map((f) => f.content), m.documentText].join('\n');
}

/** A stored mesh document's content, decoded as mesh-sync decodes it. */
export interface MeshDocumentContent {
  readonly files: Record<string, string>;
  readonly patroni?: { readonly pg_hba: string[]; readonly slots: Record<string, unknown> };
}

/** A secret value that is a mesh document (`{"format": "dpg-mesh/1", ..., "gzip": B}`), decoded; undefined for any other value. */
export function decodeMeshDocument(value: string | undefined): MeshDocumentContent | undefined {
  if (value === undefined) return undefined;
  let doc: { format?: unknown; gzip?: unknown };
  try {
    doc = JSON.parse(value) as typeof doc;
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || typeof doc.format !== 'string' || !doc.format.startsWith('dpg-mesh/') || typeof doc.gzip !== 'string') return undefined;
  return JSON.parse(gunzipSync(Buffer.from(doc.gzip, 'base64')).toString('utf8')) as MeshDocumentContent;
}

/**
 * The mesh documents among the stack's literal secret values, decoded: name to the document's files joined. The
 * rehearsal reads the mesh a group must have from them, as its machines do.
 */
export function meshDocumentTexts(literals: Record<string, string>): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const [name, value] of Object.entries(literals)) {
    const files = decodeMeshDocument(value)?.files;
    if (files) texts[name] = Object.keys(files).sort().map((f) => files[f]).join('\n');
  }
  return texts;
}

/** `SQL literal` -> text ('' doubled inside). */
function unquote(value: string): string {
  const v = value.trim().replace(/^'+|'+$/g, '');
  return v.replace(/''/g, "'");
}

export function geoshardsOf(machines: FleetMachine[], groupOf: (m: FleetMachine) => string): GeoshardView[] {
  const found = new Map<string, GeoshardView & { groups: string[] }>();
  const pattern = /CREATE TABLE IF NOT EXISTS ([\w."]+) PARTITION OF ([\w."]+) FOR VALUES IN \(([^)]*)\)/g;
  for (const m of machines) {
    for (const match of allText(m).matchAll(pattern)) {
      const partition = match[1].replace(/"/g, '');
      const entry = found.get(partition) ?? {
        table: match[2].replace(/"/g, ''),
        partition,
        values: match[3].split(',').map(unquote),
        groups: [],
      };
      if (!entry.groups.includes(groupOf(m))) entry.groups.push(groupOf(m));
      found.set(partition, entry);
    }
  }
  return [...found.values()].map((g) => ({ ...g, groups: g.groups.sort() })).sort((a, b) => a.partition.localeCompare(b.partition));
}

function globalTablesOf(machines: FleetMachine[], geoshards: GeoshardView[]): string[] {
  const partitions = new Set(geoshards.map((g) => g.partition));
  const tables = new Set<string>();
  // pglogical/Spock: `relation := '...'`; native: `ALTER PUBLICATION ... ADD TABLE ...`.
  const pattern = /relation := (?:to_regclass\()?'([\w."]+)'|ALTER PUBLICATION [\w"]+ ADD TABLE ([\w."]+)/g;
  for (const m of machines) {
    for (const match of allText(m).matchAll(pattern)) {
      const table = (match[1] ?? match[2]).replace(/"/g, '');
      if (!partitions.has(table)) tables.add(table);
    }
  }
  return [...tables].sort();
}

/** Delta-apply columns as the renderer sets them (`ALTER TABLE t ALTER COLUMN c SET (..., delta_apply_function = ...)`). */
export function deltaApplyColumnsOf(machines: FleetMachine[]): DeltaApplyColumnView[] {
  const found = new Map<string, DeltaApplyColumnView>();
  const pattern = /ALTER TABLE ([\w."]+) ALTER COLUMN ([\w"]+) SET \([^)]*delta_apply_function/g;
  for (const m of machines) {
    for (const match of allText(m).matchAll(pattern)) {
      const table = match[1].replace(/"/g, '');
      const column = match[2].replace(/"/g, '');
      found.set(`${table}.${column}`, { table, column });
    }
  }
  return [...found.values()].sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`));
}

function databaseOf(machines: FleetMachine[]): string {
  for (const m of machines) {
    const text = allText(m);
    const env = /^DPG_DATABASE=['"]?([A-Za-z0-9_]+)/m.exec(text);
    if (env) return env[1];
    const dsn = /\bdbname=([A-Za-z0-9_]+)/.exec(text);
    if (dsn) return dsn[1];
  }
  throw new Error('rehearsal: cannot find the application database in the user-data (no dbname= / DPG_DATABASE=)');
}

/** A stored scripts document's files (`{"format": "dpg-scripts/1", "sha256": H, "gzip": B}`), decoded; undefined for any other value. */
export function decodeScriptsDocument(value: string | undefined): { sha256: string; files: ScriptsDocumentFile[] } | undefined {
  if (value === undefined) return undefined;
  try {
    const doc = JSON.parse(value) as { format?: unknown; sha256?: unknown; gzip?: unknown };
    if (typeof doc.format !== 'string' || !doc.format.startsWith('dpg-scripts/') || typeof doc.gzip !== 'string' || typeof doc.sha256 !== 'string') return undefined;
    return { sha256: doc.sha256, files: JSON.parse(gunzipSync(Buffer.from(doc.gzip, 'base64')).toString('utf8')).files as ScriptsDocumentFile[] };
  } catch {
    return undefined;
  }
}

export interface ScriptsDocumentFile {
  readonly path: string;
  readonly permissions: string;
  readonly when: string;
  readonly content: string;
}

/**
 * The machine's files as it holds them once its bootstrap began: its user-data's, then the files of the scripts
 * document its load-scripts names (those its `WHEN` picks, as load-scripts does), so the rehearsal reads the fleet
 * from every file a machine runs. A user-data without load-scripts is taken as it is.
 */
function withScriptsDocument(config: CloudConfig, literals: Record<string, string>, machine: string): CloudConfig {
  const loader = config.writeFiles.find((f) => f.path.endsWith('/load-scripts'))?.content;
  if (loader === undefined) return config;
  const named = /^NAME, SHA256, BACKEND = "([^"]+)", "([0-9a-f]{64})"/m.exec(loader);
  const when = /^MACHINE, WHEN, STAMP = "[^"]*", (\[[^\]]*\])/m.exec(loader);
  if (!named || !when) throw new Error(`rehearsal: ${machine}'s load-scripts names no scripts document this rehearsal can read`);
  const document = decodeScriptsDocument(literals[named[1]]);
  if (!document) throw new Error(`rehearsal: ${machine}'s user-data names the scripts document ${named[1]}, which the stack does not store`);
  const picked = JSON.parse(when[1]) as string[];
  const files = document.files.filter((f) => picked.includes(f.when))
    .map((f) => ({ path: f.path, content: f.content, permissions: f.permissions, owner: 'root:root', defer: false }));
  return { ...config, writeFiles: [...config.writeFiles, ...files] };
}

export function readFleet(stack: SynthesizedStack): RehearsalFleet {
  const documents = meshDocumentTexts(stack.literalSecretValues);
  const machines: FleetMachine[] = stack.machines.map((machine) => {
    const config = withScriptsDocument(parseCloudConfig(machine.userData, machine.name), stack.literalSecretValues, machine.name);
    const own = [config.text, ...config.writeFiles.map((f) => f.content)].join('\n');
    const documentText = Object.entries(documents).filter(([name]) => own.includes(JSON.stringify(name))).map(([, text]) => text).join('\n');
    return { machine, config, patroni: patroniViewOf(config), runsEtcd: runsEtcd(config), documentText };
  });
  const groupName = (m: FleetMachine) => m.machine.nodeGroup || m.patroni?.scope || m.machine.name;
  const names = [...new Set(machines.map(groupName))].sort();
  const inUse = stack.addressesInUse;
  const groups: FleetGroup[] = names.map((name) => {
    const inGroup = machines.filter((m) => groupName(m) === name);
    const subnets = [...new Set(inGroup.map((m) => subnetOf(m.machine.privateIp, stack.subnets)))].sort();
    const clientSubnet = subnets[0];
    let clientIp = '';
    for (const candidate of hostsFromTop(parseCidr(clientSubnet))) {
      const text = formatIp(candidate);
      if (!inUse.has(text)) {
        clientIp = text;
        break;
      }
    }
    if (!clientIp) throw new Error(`rehearsal: no free address for the client of node group ${name} in ${clientSubnet}`);
    return {
      name,
      members: inGroup.filter((m) => m.patroni),
      machines: inGroup,
      subnets,
      clientIp,
      clientSubnet,
    };
  });
  const pg = machines.find((m) => m.patroni)?.patroni;
  if (!pg) throw new Error('rehearsal: no machine of the stack carries a Patroni configuration in its user-data');
  for (const g of groups) {
    if (g.members.length === 0) throw new Error(`rehearsal: node group ${g.name} has no Postgres member`);
  }
  const geoshards = geoshardsOf(machines, groupName);
  const caSecret = caSecretOf(stack.secretNames, stack.generatedSecretNames);
  if (!pg.superuserSecret) throw new Error('rehearsal: the Patroni configuration names no secret for the superuser password');
  const preload = pg.preloadLibraries;
  const globalTables = globalTablesOf(machines, geoshards);
  const deltaApplyColumns = deltaApplyColumnsOf(machines);
  const deltaTables = new Set(deltaApplyColumns.map((c) => c.table));
  return {
    name: stack.machines[0].fleet || stack.machines[0].name.split('-')[0],
    groups,
    machines,
    database: databaseOf(machines),
    superuser: pg.superuser,
    superuserSecret: pg.superuserSecret,
    restPort: pg.restPort,
    restTls: pg.restTls,
    restUser: pg.restUser,
    restSecret: pg.restSecret,
    timing: { ttl: pg.ttl, loopWait: pg.loopWait, retryTimeout: pg.retryTimeout },
    synchronousMode: pg.synchronousMode,
    engine: /spock/.test(preload) ? 'spock' : /pglogical/.test(preload) ? 'pglogical' : 'native',
    globalTables,
    writerTable: globalTables.find((t) => !deltaTables.has(t)) ?? globalTables[0] ?? '',
    deltaApplyColumns,
    snowflakeIds: /(^|,)\s*snowflake\s*(,|$)/.test(preload),
    geoshards,
    secretNames: stack.secretNames,
    literalSecretValues: stack.literalSecretValues,
    caSecret,
    subnets: [...new Set([...stack.subnets, ...groups.flatMap((g) => g.subnets)])].sort(),
  };
}
