/**
 * Assembles one machine's `#cloud-config`: write_files (configs, units, scripts) + apt sources + packages +
 * a runcmd that starts the one bootstrap unit. Built as data and written with the `yaml` library (block
 * literals for file contents, so the text reads well in a pull request).
 */
import { Document, Scalar, visit } from 'yaml';
import { TextMemo } from '../memo';
import { compactFile } from './compact';
import { Machine } from './machine';
import { NodeGroup, Topology } from '../topology/topology';
import { bootstrapRuncmd, bootstrapScript, bootstrapUnit, etcdJoinScript, memberEnv } from './bootstrap';
import { antiEntropyScript } from './anti-entropy';
import { backupScript, backupServiceUnit, backupTimerUnit, backupUnitPath, pgbackrestConfig, restoreBootstrapScript, scheduledBackups } from './backup';
import { mountDataDiskScript } from './disk';
import { etcdConfig, etcdUnit } from './etcd';
import { MeshSql, replicationEngine } from './mesh';
import { installsNothing, packagePlan } from './packages';
import { patroniConfig, patroniUnit } from './patroni';
import {
  EXPORTER_UNITS, exporterDropInPath, exporterHoldDropIn, exporterHoldPath, exporterRoleSql, exporterWebConfig, metricsEnabled,
  nodeExporterDropIn, postgresExporterDropIn, QUERIES_UNIT_FILES, queriesPathUnit, queriesRestartUnit,
} from './metrics';
import { FILES } from './paths';
import { oneLine } from './quote';
import { meshSyncScript } from './mesh-document';
import { loadScriptsScript, ScriptsDocument, scriptsDocumentOf, ScriptsFile, ScriptsFileWhen, scriptsWhenOf } from './scripts-document';
import { materializeSecretsScript, secretBackendScript, secretCommandScript } from './secrets';
import { issueCertificateScript } from './tls';
import {
  allowOutputPluginSql, meshKeeperScript, meshKeeperUnit, onRoleChangeScript, postBootstrapScript, prePromoteScript,
} from './mesh-keeper';

/** One file of a machine's `write_files`. */
export interface MachineFile {
  readonly path: string;
  readonly permissions: string;
  readonly content: string;
}

/**
 * YAML 1.1: every reader here (cloud-init and Patroni through PyYAML, etcd through go-yaml) takes `on`, `yes`,
 * `off` as booleans, so the writer must quote such strings (`"on"`), which it does in 1.1 mode.
 */
const YAML_OPTIONS = { version: '1.1' as const };

const file = (path: string, permissions: string, content: string): MachineFile => ({ path, permissions, content });

/**
 * The YAML texts made in this process, by their input: each machine's etcd and Patroni configuration is its own within
 * a fleet, but a process that resolves a fleet again (validation then synth, the lock, the tests: 6,300 calls for 2,100
 * distinct inputs, a tenth of `npm test`'s CPU) wrote the same text again; yaml's writer is most of a render.
 */
const YAML_TEXTS = new TextMemo<string>(8_000_000, 256 * 1024);

/** YAML text of a config object (for files embedded in write_files). */
export function yamlText(value: unknown, comment: string): string {
  const key = plainJson(value);
  return key === undefined ? writeYamlText(value, comment) : YAML_TEXTS.get(`${comment}\u0000${key}`, () => writeYamlText(value, comment));
}

/**
 * JSON of a value made only of plain objects, arrays, strings, finite numbers, booleans and null (properties that are
 * undefined are left out, as yaml leaves them out), which yaml writes the same way whenever the JSON is the same;
 * undefined for anything else (a class instance, a Date, a non-finite number or -0, an undefined array item), which is
 * then written without the memo.
 */
function plainJson(value: unknown): string | undefined {
  let plain = true;
  const json = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    const raw = (this as Record<string, unknown>)[key];
    if (typeof raw === 'number') {
      if (!Number.isFinite(raw) || Object.is(raw, -0)) plain = false;
    } else if (raw === undefined) {
      if (Array.isArray(this) || key === '') plain = false;
    } else if (typeof raw === 'object') {
      if (raw !== null && !Array.isArray(raw) && ![Object.prototype, null].includes(Object.getPrototypeOf(raw))) plain = false;
    } else if (typeof raw !== 'string' && typeof raw !== 'boolean') {
      plain = false;
    }
    return plain ? v : null;
  });
  return plain ? json : undefined;
}

function writeYamlText(value: unknown, comment: string): string {
  const doc = new Document(value, YAML_OPTIONS);
  doc.commentBefore = ` ${oneLine(comment)}`;
  return doc.toString({ lineWidth: 0 });
}

// The mesh SQL is the group's, the same for each of its members: made once per group.
const SQL = new WeakMap<Topology, Map<NodeGroup, MeshSql>>();

function groupSql(topology: Topology, group: NodeGroup): MeshSql {
  let byGroup = SQL.get(topology);
  if (!byGroup) SQL.set(topology, byGroup = new Map());
  let sql = byGroup.get(group);
  if (!sql) byGroup.set(group, sql = replicationEngine(topology.replication.engine).sql(topology, group));
  return sql;
}

const scriptsFile = (path: string, permissions: string, when: ScriptsFileWhen, content: string): ScriptsFile =>
  compactFile({ path, permissions, when, content });

// The scripts are the group's, the same for each of its machines: made once per group.
const SCRIPTS = new WeakMap<Topology, Map<NodeGroup, ScriptsFile[]>>();

/**
 * The files of the group's scripts document: every script, unit and SQL file its machines run that is the same on
 * each of them (`when` says which machines write it), in the order load-scripts writes them.
 */
export function scriptsDocumentFiles(topology: Topology, group: NodeGroup): ScriptsFile[] {
  let byGroup = SCRIPTS.get(topology);
  if (!byGroup) SCRIPTS.set(topology, byGroup = new Map());
  const known = byGroup.get(group);
  if (known) return known;
  const sql = groupSql(topology, group);
  const always = (path: string, permissions: string, content: string) => scriptsFile(path, permissions, 'always', content);
  const etcd = (path: string, permissions: string, content: string) => scriptsFile(path, permissions, 'etcd', content);
  const postgres = (path: string, permissions: string, content: string) => scriptsFile(path, permissions, 'postgres', content);
  const files: ScriptsFile[] = [
    always(FILES.secretCommand, '0700', secretCommandScript(topology)),
    always(FILES.issueCertificate, '0700', issueCertificateScript()),
    etcd(FILES.etcdUnit, '0644', etcdUnit(group)),
    etcd(FILES.etcdJoin, '0700', etcdJoinScript()),
    postgres(FILES.patroniUnit, '0644', patroniUnit()),
    postgres(FILES.meshUnit, '0644', meshKeeperUnit()),
    postgres(FILES.mountDataDisk, '0700', mountDataDiskScript()),
    postgres(FILES.materializeSecrets, '0700', materializeSecretsScript()),
    postgres(FILES.postBootstrap, '0755', postBootstrapScript()),
    postgres(FILES.onRoleChange, '0755', onRoleChangeScript()),
    postgres(`${FILES.meshDir}/allow-output-plugin.sql`, '0644', allowOutputPluginSql()),
    // The group's own mesh (setup, subscriptions, verify, problems) comes from its mesh document, not from here.
    postgres(FILES.meshSync, '0700', meshSyncScript(group)),
    postgres(`${FILES.meshDir}/restart-subscription.sql`, '0644', sql.restartSubscription),
    ...(sql.resume === undefined ? [] : [
      postgres(`${FILES.meshDir}/resume-marks.sql`, '0644', sql.resume.marks),
      postgres(`${FILES.meshDir}/resume-advance.sql`, '0644', sql.resume.advance),
      postgres(`${FILES.meshDir}/resume-positions.sql`, '0644', sql.resume.positions),
      postgres(`${FILES.meshDir}/resume-inspect.sql`, '0644', sql.resume.inspect),
      postgres(`${FILES.meshDir}/resume-rewind.sql`, '0644', sql.resume.rewind),
      postgres(`${FILES.meshDir}/resume-peers.sql`, '0644', sql.resume.peers),
      postgres(`${FILES.meshDir}/resume-rewind-origin.sql`, '0644', sql.resume.rewindOrigin),
      postgres(`${FILES.meshDir}/resume-unpause.sql`, '0644', sql.resume.unpause),
      postgres(FILES.prePromote, '0755', prePromoteScript()),
    ]),
    ...(sql.standbySlots === undefined ? [] : [postgres(`${FILES.meshDir}/standby-slots.sql`, '0644', sql.standbySlots)]),
    postgres(FILES.antiEntropy, '0755', antiEntropyScript()),
    // pgBackRest (groups with backups): its configuration (the bootstrap gives it to postgres, 0640), the backup script
    // and a service and timer per kind of backup the group takes.
    // A restored group: the source's repository (read only) and the custom bootstrap that restores from it.
    ...(group.restore === undefined ? [] : [
      postgres(FILES.pgbackrestConfig, '0640', pgbackrestConfig(topology, group)),
      postgres(FILES.restoreBootstrap, '0755', restoreBootstrapScript(group)),
    ]),
    ...(group.backup === undefined ? [] : [
      postgres(FILES.pgbackrestConfig, '0640', pgbackrestConfig(topology, group)),
      postgres(FILES.backup, '0700', backupScript(topology, group)),
      ...scheduledBackups(group.backup).flatMap(({ kind, calendar }) => [
        postgres(backupUnitPath(kind, 'service'), '0644', backupServiceUnit(kind)),
        postgres(backupUnitPath(kind, 'timer'), '0644', backupTimerUnit(kind, calendar)),
      ]),
    ]),
    // Metrics (monitoring): the exporters' TLS configuration, postgres_exporter's queries and its role.
    ...(metricsEnabled(topology) ? [
      postgres(FILES.exporterWebConfig, '0644', exporterWebConfig()),
      postgres(exporterDropInPath(EXPORTER_UNITS.postgres), '0644', postgresExporterDropIn(topology)),
      postgres(exporterDropInPath(EXPORTER_UNITS.node), '0644', nodeExporterDropIn()),
      postgres(QUERIES_UNIT_FILES.path, '0644', queriesPathUnit()),
      postgres(QUERIES_UNIT_FILES.service, '0644', queriesRestartUnit()),
      postgres(FILES.exporterRoleSql, '0644', exporterRoleSql(topology)),
    ] : []),
    postgres(FILES.meshKeeper, '0700', meshKeeperScript()),
    always(FILES.bootstrapScript, '0700', bootstrapScript(topology)),
  ];
  byGroup.set(group, files);
  return files;
}

/** The group's scripts document as stored (its SHA-256 is what the machines' user-data pins). */
export function groupScriptsDocument(topology: Topology, group: NodeGroup): ScriptsDocument {
  return scriptsDocumentOf(scriptsDocumentFiles(topology, group), group.scriptsDocument);
}

/**
 * The files of this machine's user-data, in the order cloud-init writes them: what is its own (its identity, its etcd
 * and Patroni configuration), what must be there before the packages install, the secret backend and load-scripts,
 * which brings the rest from the group's scripts document, and the bootstrap unit that runs it.
 */
export function userDataFiles(machine: Machine): MachineFile[] {
  const { topology, group } = machine;
  const document = groupScriptsDocument(topology, group);
  const files: MachineFile[] = [
    file(FILES.memberEnv, '0644', memberEnv(machine)),
    file(FILES.secretBackend, '0700', secretBackendScript(group.cloud, group.region)),
    file(FILES.loadScripts, '0700', loadScriptsScript(machine, group, document.sha256)),
  ];
  if (machine.etcd) {
    files.push(file(FILES.etcdConfig, '0644', yamlText(etcdConfig(group, machine.etcd),
      `etcd member ${machine.etcd.name} of quorum ${group.etcd.clusterToken} (etcd --config-file). No secrets.`)));
  }
  if (machine.role === 'postgres') {
    files.push(
      // Before the packages install (cloud-init writes files first): no default cluster to remove later.
      file(FILES.createclusterConf, '0644',
        '# distributed-postgres: Patroni creates and runs this machine\'s cluster; no default "main" cluster on install.\n' +
        'create_main_cluster = false\n'),
      file(FILES.patroniTemplate, '0600', yamlText(patroniConfig(machine),
        `Patroni for ${machine.name}. Passwords are {{secret:NAME}} placeholders; the bootstrap writes ${FILES.patroniConfig} (0600, postgres).`)),
    );
    if (metricsEnabled(topology)) {
      // Before the packages install (they start their units): not before the bootstrap configured HTTPS.
      files.push(
        file(exporterHoldPath(EXPORTER_UNITS.postgres), '0644', exporterHoldDropIn()),
        file(exporterHoldPath(EXPORTER_UNITS.node), '0644', exporterHoldDropIn()),
      );
    }
  }
  files.push(file(FILES.bootstrapUnit, '0644', bootstrapUnit()));
  return files.map(compactFile);
}

/** Every file this machine ends up with: its user-data's, then its part of the group's scripts document. */
export function machineFiles(machine: Machine): MachineFile[] {
  const when = scriptsWhenOf(machine);
  return [
    ...userDataFiles(machine),
    ...scriptsDocumentFiles(machine.topology, machine.group).filter((f) => when.includes(f.when))
      .map((f): MachineFile => ({ path: f.path, permissions: f.permissions, content: f.content })),
  ];
}

export function cloudConfigText(machine: Machine): string {
  const { topology, group } = machine;
  const plan = packagePlan(machine);
  const config: Record<string, unknown> = {};
  if (plan.bootcmd.length > 0) config.bootcmd = plan.bootcmd;
  const writeFiles = userDataFiles(machine).map((f) => ({ path: f.path, owner: 'root:root', permissions: f.permissions, content: f.content }));
  config.write_files = writeFiles;
  if (Object.keys(plan.aptSources).length > 0) config.apt = { sources: plan.aptSources };
  if (installsNothing(topology)) {
    // A golden image: nothing to install, and no mirror to reach (air-gapped sites).
    config.package_update = false;
    config.package_upgrade = false;
  } else {
    config.package_update = true;
    config.packages = plan.packages;
  }
  config.runcmd = bootstrapRuncmd();
  const role = machine.role === 'postgres'
    ? `Postgres member${machine.etcd ? ' + etcd member' : ''}`
    : 'dedicated etcd member';
  return '#cloud-config\n' +
    `# ${oneLine(`${machine.name}: ${role} of node group '${group.name}' (${group.cloud} ${group.region}, ${machine.zone}, ${machine.privateIp})`)}\n` +
    `# ${oneLine(`in fleet '${topology.fleetName}'.`)} Rendered by cdktf-distributed-postgres: do not edit. No secret values: names only.\n` +
    configYaml(config, writeFiles);
}

/** YAML text of a value: file contents as literal blocks; yaml falls back to quoting by itself where a block cannot hold the text. */
function blockYaml(value: unknown): string {
  const doc = new Document(value, YAML_OPTIONS);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && node.value.includes('\n')) node.type = Scalar.BLOCK_LITERAL;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

type WriteFile = { path: string; owner: string; permissions: string; content: string };

// Each write_files entry's YAML, by the entry: the fleet's machines carry mostly the same scripts and units, and so do
// fleets resolved again in the same process. Larger files are each machine's own (its Patroni configuration): not kept.
const MAX_CACHED_CONTENT = 16 * 1024;
const ENTRY_YAML = new TextMemo<string>(8_000_000, MAX_CACHED_CONTENT + 1024);
const WRITE_FILES_KEY = 'write_files:\n';

/** One write_files entry as yaml writes it inside `write_files:` (each entry's text depends on that entry only). */
function entryYaml(f: WriteFile): string {
  return ENTRY_YAML.get(`${f.path}\u0000${f.owner}\u0000${f.permissions}\u0000${f.content}`, () => {
    const text = blockYaml({ write_files: [f] });
    if (!text.startsWith(WRITE_FILES_KEY)) throw new Error(`render: unexpected YAML for write_files entry ${f.path}`);
    return text.slice(WRITE_FILES_KEY.length);
  });
}

/**
 * The cloud-config's YAML: the document with an empty write_files, whose `write_files: []` line is replaced by the
 * entries' YAML (the text yaml writes for the whole document, without writing the shared entries again per machine).
 */
function configYaml(config: Record<string, unknown>, writeFiles: WriteFile[]): string {
  if (writeFiles.length === 0) return blockYaml(config);
  const text = blockYaml({ ...config, write_files: [] });
  const empty = text.startsWith('write_files: []\n') ? 0 : text.indexOf('\nwrite_files: []\n') + 1;
  if (empty <= 0 && !text.startsWith('write_files: []\n')) throw new Error('render: unexpected YAML for an empty write_files');
  return text.slice(0, empty) + WRITE_FILES_KEY + writeFiles.map((f) => entryYaml(f)).join('') +
    text.slice(empty + 'write_files: []\n'.length);
}
