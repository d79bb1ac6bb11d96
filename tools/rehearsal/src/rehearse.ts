/**
 * The rehearsal: boots a synthesized stack's machines on local test hosts from their user-data, waits for a
 * writable, replicating mesh, runs the drills and reports. Everything it creates is removed at the end, also on
 * failure, SIGINT and SIGTERM.
 */
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { documentsBeforeAddition } from './drills/add-group';
import { applyUserData, MESH_KEEPER_SERVICE, startUserData, validateUserData } from './boot';
import { FleetAccess } from './db';
import {
  DEFAULT_DRILLS, DrillEnv, DrillName, FAILOVER_DRILLS, HOLD_BACK_DRILLS, PATRONI_DEFAULT_TIMING, profileLabel, runDrill, runOrder,
} from './drills';
import { readFleet, RehearsalFleet } from './fleet';
import { newSeed } from './boot-plan';
import { bootFleet } from './fleet-boot';
import { NetworkPlan, TestHosts } from './hosts';
import { subnetOf } from './ipv4';
import { BootOrder, DrillResult, RehearsalReport, ReportImage, summary, tableHeader, tableRow, verdictOf } from './report';
import { localSecretBackend, writeSecrets } from './secrets';
import { run, sleep, waitFor } from './shell';
import { readSynthesizedStack } from './stack';
import {
  buildImage, cachedImage, CachedImage, describeVersions, imageDirName, imageHash, IMPORTED_IMAGES, isImported, missingPackages, selectImage,
} from './images';
import { cleanupLeftovers, DEFAULT_WORKSPACE, Workspace } from './workspace';
import {
  freeAddress, IMDS_IP, makeObjectStoreCertificates, ObjectStorePlan, planObjectStore, prepareRootForObjectStore, startObjectStore,
} from './object-store';
import { LONG_PARTITION_DISK_MB, RESTORE_DRILLS } from './drills';

export const SABOTAGES = ['drop-subscription', 'drop-delta-apply'] as const;
export type Sabotage = (typeof SABOTAGES)[number];
export const TIMING_VARIANTS = ['default'] as const;
export type TimingVariant = (typeof TIMING_VARIANTS)[number];

export interface RehearseOptions {
  /** Stack directory (cdktf.out/stacks/NAME) or its cdk.tf.json. */
  readonly stack: string;
  /** @default every drill */
  readonly drills?: DrillName[];
  /** Also run the failover drills under these Patroni timing profiles (set through Patroni's dynamic configuration). */
  readonly timingVariants?: TimingVariant[];
  /** Write the report as JSON here. */
  readonly json?: string;
  /** Break the mesh on purpose before the drills (the rehearsal must then fail). */
  readonly sabotage?: Sabotage;
  /** Rows per second per node group writer. @default 20 */
  readonly rate?: number;
  /** Longest wait for every group to hold the same rows after a drill, s. @default 150 */
  readonly convergeTimeoutS?: number;
  /** How hosts start: all at once, or shuffled at random offsets within `bootSpreadS`. @default together */
  readonly bootOrder?: BootOrder;
  /** Latest start offset of a host with `bootOrder: shuffle`, s. @default 0 */
  readonly bootSpreadS?: number;
  /** Seed of the boot order and offsets, and of the failover campaign's crash moments. @default a random one (in the report) */
  readonly seed?: number;
  /** Crashes of the failover-campaign drill. @default 5 */
  readonly repeat?: number;
  /** Count rows never acknowledged that some groups kept, instead of failing on them (see DrillEnv). @default false */
  readonly tolerateOrphans?: boolean;
  /** mesh-update: the synthesized stack (dir or cdk.tf.json) the fleet is updated to. */
  readonly nextStack?: string;
  /** remove-group: the synthesized stack without some node groups (dir or cdk.tf.json) the fleet shrinks to. */
  readonly shrunkStack?: string;
  /** Copy every host's /var/log here at the end (on failure always: into cdktf.out/rehearsal-logs when not given). */
  readonly logsDir?: string;
  /**
   * Each host's data disk as a file system of this many MB (what the machine sizes from it follows: its
   * max_slot_wal_keep_size, the archive queue). @default a directory of the rehearsal's tmpfs; LONG_PARTITION_DISK_MB
   * when long-partition runs
   */
  readonly dataDiskMb?: number;
  /** Build the image the stack needs when it is not cached (false: refuse instead). @default true */
  readonly build?: boolean;
  /** Where state lives and how namespaces are named. @default DEFAULT_WORKSPACE (/srv/dpg-rehearsal, dpgr-) */
  readonly workspace?: Workspace;
  readonly log?: (line: string) => void;
}

const REQUIRED_COMMANDS = ['ip', 'unshare', 'nsenter', 'cloud-init', 'psql', 'curl', 'openssl', 'pgrep'];

async function preflight(log: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('rehearsal: run as root (it creates network and mount namespaces)');
  for (const cmd of REQUIRED_COMMANDS) {
    const r = await run('sh', ['-c', `command -v ${cmd}`], { allowFail: true });
    if (r.code !== 0) throw new Error(`rehearsal: \`${cmd}\` is missing. Fix: install the Debian packages .ci/run installs`);
  }
  const py = await run('/usr/bin/python3', ['-c', 'import psycopg2, yaml'], { allowFail: true });
  if (py.code !== 0) throw new Error('rehearsal: /usr/bin/python3 lacks psycopg2/yaml. Fix: apt-get install python3-psycopg2 python3-yaml (patroni pulls both)');
  await stopDistroServices(log);
}

/** The machine's own package install may have started the distro's etcd or a Postgres cluster: stop them. */
async function stopDistroServices(log: (line: string) => void): Promise<void> {
  const clusters = await run('pg_lsclusters', ['-h'], { allowFail: true });
  for (const line of clusters.stdout.split('\n')) {
    const [version, name, , status] = line.split(/\s+/);
    if (status === 'online') {
      log(`preflight: stopping the machine's own Postgres cluster ${version}/${name}`);
      await run('pg_ctlcluster', [version, name, 'stop'], { allowFail: true });
    }
  }
  const mine = readlinkQuiet('/proc/self/ns/net');
  const etcd = await run('pgrep', ['-x', 'etcd'], { allowFail: true });
  for (const pid of etcd.stdout.split(/\s+/).filter(Boolean)) {
    // Only the package's own service: `/usr/bin/etcd` without arguments (its unit passes an empty $DAEMON_ARGS)
    // in this network namespace. Anybody else's etcd is left alone.
    const cmdline = readFileQuiet(`/proc/${pid}/cmdline`).split('\0').filter(Boolean);
    if (readlinkQuiet(`/proc/${pid}/ns/net`) === mine && cmdline.length === 1 && cmdline[0] === '/usr/bin/etcd') {
      log(`preflight: stopping the machine's own etcd (pid ${pid})`);
      await run('kill', [pid], { allowFail: true });
    }
  }
}

function readFileQuiet(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function readlinkQuiet(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

/** A spare test host (same image as the fleet, outside its mesh) the restore drills restore a node group's backup on. */
export interface SpareHost {
  readonly name: string;
  readonly ip: string;
  readonly subnet: string;
  /** The node group whose subnet (and partition side) it sits in. */
  readonly group: string;
}

function networkPlan(fleet: RehearsalFleet, objectStore?: ObjectStorePlan & { image: { name: string; rootfs: string } }, spare?: SpareHost): NetworkPlan {
  return {
    hosts: [
      ...fleet.machines.map((m) => ({
        name: m.machine.name,
        ip: m.machine.privateIp,
        subnet: subnetOf(m.machine.privateIp, fleet.subnets),
        side: fleet.groups.find((g) => g.machines.includes(m))!.name,
      })),
      // The stand-ins sit in the first node group's subnet and partition side (a partition cuts them off with it).
      ...(objectStore ? [{ name: objectStore.name, ip: objectStore.ip, subnet: objectStore.subnet, side: fleet.groups[0].name,
        image: objectStore.image, extraAddresses: [`${IMDS_IP}/32`] }] : []),
      ...(spare ? [{ name: spare.name, ip: spare.ip, subnet: spare.subnet, side: spare.group }] : []),
    ],
    clients: fleet.groups.map((g) => ({ name: g.name, ip: g.clientIp, subnet: g.clientSubnet, side: g.name })),
    subnets: fleet.subnets,
    ...(objectStore ? { imds: IMDS_IP } : {}),
  };
}

/**
 * Breaks the fleet on purpose (the run must then fail): `drop-subscription` drops one subscription on the last
 * group's leader, so rows written meanwhile never reach it; `drop-delta-apply` resets the delta-apply setting of every
 * delta-apply column in every group, so concurrent decrements resolve by last-update-wins and the sum goes wrong.
 */
async function sabotage(kind: Sabotage, hosts: TestHosts, access: FleetAccess, fleet: RehearsalFleet, log: (line: string) => void): Promise<void> {
  if (kind === 'drop-delta-apply') {
    if (fleet.deltaApplyColumns.length === 0) throw new Error('sabotage drop-delta-apply: the stack declares no delta-apply column');
    for (const g of fleet.groups) {
      for (const c of fleet.deltaApplyColumns) {
        await access.query(g.name, `ALTER TABLE ${c.table} ALTER COLUMN ${c.column} RESET (log_old_value, delta_apply_function)`);
      }
    }
    log(`SABOTAGE: reset the delta-apply setting of ${fleet.deltaApplyColumns.map((c) => `${c.table}.${c.column}`).join(', ')} in every group`);
    return;
  }
  const group = fleet.groups[fleet.groups.length - 1].name;
  // mesh-keeper re-creates a dropped subscription within seconds (measured: before the drill's first write, so
  // nothing was lost and the sabotage went unseen): it is stopped on every member of the group first, which leaves
  // the subscription gone for the whole run, as an unnoticed loss would be.
  for (const m of access.group(group).members) {
    await hosts.exec(m.machine.name, ['systemctl', 'stop', MESH_KEEPER_SERVICE]);
  }
  log(`SABOTAGE: stopped ${MESH_KEEPER_SERVICE} on every member of node group ${group} (nothing repairs the mesh there)`);
  if (fleet.engine === 'native') {
    // DROP SUBSCRIPTION cannot run in a transaction block: one statement per call.
    const [[name]] = await access.query(group, 'SELECT subname FROM pg_subscription ORDER BY subname LIMIT 1');
    const ident = `"${name.replace(/"/g, '""')}"`;
    for (const sql of [`ALTER SUBSCRIPTION ${ident} DISABLE`, `ALTER SUBSCRIPTION ${ident} SET (slot_name = NONE)`, `DROP SUBSCRIPTION ${ident}`]) {
      await access.query(group, sql);
    }
  } else {
    const schema = fleet.engine === 'spock' ? 'spock' : 'pglogical';
    const drop = fleet.engine === 'spock' ? 'spock.sub_drop' : 'pglogical.drop_subscription';
    await access.query(group, `SELECT ${drop}(sub_name) FROM ${schema}.subscription ORDER BY sub_name LIMIT 1`);
  }
  log(`SABOTAGE: dropped a subscription of node group ${group}`);
}

export async function rehearse(options: RehearseOptions): Promise<RehearsalReport> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const drills = runOrder(options.drills ?? [...DEFAULT_DRILLS]);
  if (drills.includes('add-group') && !options.shrunkStack) {
    throw new Error('add-group needs --shrunk STACK: the stack without the node group it adds (e.g. cdktf.out/stacks/rehearsal-shrunk)');
  }
  const stack = readSynthesizedStack(options.stack);
  const fleet = readFleet(stack);
  // long-partition needs a small retention budget: a small disk, from which each member computes it at boot.
  const dataDiskMb = options.dataDiskMb ?? (drills.includes('long-partition') ? LONG_PARTITION_DISK_MB : undefined);
  const report: RehearsalReport = {
    stack: stack.file,
    fleet: fleet.name,
    startedAt: new Date().toISOString(),
    machines: fleet.machines.map((m) => ({
      name: m.machine.name,
      group: fleet.groups.find((g) => g.machines.includes(m))!.name,
      ip: m.machine.privateIp,
      userDataEncoding: m.machine.userDataEncoding,
      userDataBytes: Buffer.byteLength(m.machine.userData),
    })),
    standIns: [
      'packages: preinstalled in the image the hosts boot from (cloud-init packages/apt modules not run)',
      'systemd: tools/rehearsal/assets/standin/systemd.py as PID 1 of each host (systemctl/journalctl stand-ins)',
      `secret store: ${'<rehearsal dir>/secrets/NAME'} read by a replaced secret-backend`,
      dataDiskMb === undefined ? 'data disk: a per-host directory bind-mounted on /var/lib/postgresql'
        : `data disk: a per-host tmpfs of ${dataDiskMb} MB bind-mounted on /var/lib/postgresql (max_slot_wal_keep_size and the archive queue are computed from it at boot)`,
      ...[...new Set(fleet.machines.flatMap((m) => m.config.skippedKeys.map((k) => `cloud-config ${k.key}: ${k.why}`)))],
    ],
    drills: [],
    problems: [],
  };
  log(`rehearsal: ${fleet.machines.length} machines in ${fleet.groups.length} node groups (${fleet.engine}), stack ${stack.file}`);
  for (const s of report.standIns) log(`  stand-in: ${s}`);
  // The image, chosen (or refused) before anything boots.
  const selection = selectImage(fleet.machines.map((m) => ({
    name: m.machine.name, cloud: m.machine.cloud, tags: m.machine.tags, userData: m.config.doc,
  })));
  log(`image: ${selection.name} (from the machines' ${selection.from === 'tags' ? 'image tags' : 'user-data packages; they carry no image tags'}: ` +
    `${selection.request.image ?? '-'}, ${selection.request.packageSource ?? '-'}, PostgreSQL ${selection.request.postgres ?? '-'}, ${selection.request.engine ?? '-'})`);
  await preflight(log);
  let image: CachedImage | undefined = cachedImage(selection.name);
  let buildSeconds: number | undefined;
  if (!image) {
    if (options.build === false) {
      throw new Error(isImported(selection.name)
        ? `rehearsal: image ${selection.name} is not imported: no recipe here builds it. Fix: node tools/rehearsal/dist/cli.js image import ${selection.name} ROOTFS ` +
          `(it must hold: ${IMPORTED_IMAGES[selection.name]})`
        : `rehearsal: image ${selection.name} (${imageDirName(selection.name, imageHash(selection.name))}) is not built and --no-build was given. ` +
          `Fix: node tools/rehearsal/dist/cli.js image build ${selection.name}`);
    }
    const t0 = Date.now();
    image = await buildImage(selection.name, log);
    buildSeconds = Number(((Date.now() - t0) / 1000).toFixed(1));
  }
  log(`image: ${image.name} ${image.dir} (built ${image.manifest.builtAt}): ${describeVersions(image.manifest.versions)}`);
  for (const m of fleet.machines) {
    const missing = missingPackages(m.config.doc, image.manifest);
    if (missing.length) {
      throw new Error(`rehearsal: image ${image.name} lacks packages ${m.machine.name}'s user-data installs: ${missing.join(', ')}`);
    }
  }
  report.image = {
    name: image.name, hash: image.manifest.hash, selectedBy: selection.from, builtAt: image.manifest.builtAt,
    sizeBytes: image.manifest.sizeBytes, buildSeconds, manifest: image.manifest.versions,
  };
  // The object store stand-in (S3 and IMDS) when the stack backs up to S3, and a spare host for the restore drills.
  const taken = new Set([...stack.addressesInUse, ...fleet.groups.map((g) => g.clientIp)]);
  const s3 = planObjectStore(stack, fleet, taken);
  let objectStore: (ObjectStorePlan & { image: { name: string; rootfs: string } }) | undefined;
  if (s3) {
    taken.add(s3.ip);
    let s3Image = cachedImage('s3-standin');
    if (!s3Image) {
      if (options.build === false) {
        throw new Error(`rehearsal: image s3-standin (${imageDirName('s3-standin', imageHash('s3-standin'))}) is not built and --no-build was given. ` +
          'Fix: node tools/rehearsal/dist/cli.js image build s3-standin');
      }
      s3Image = await buildImage('s3-standin', log);
    }
    objectStore = { ...s3, image: { name: s3Image.name, rootfs: s3Image.rootfs } };
    report.standIns.push(
      `object store: S3 served by moto_server (python3-moto ${s3Image.manifest.packages['python3-moto'] ?? '?'}, image s3-standin) over TLS on ` +
      `host ${s3.name} (${s3.ip}): certificate for ${s3.certificateNames.join(', ')} signed by a rehearsal CA every host trusts in its system ` +
      `CA store, names in every host's /etc/hosts; buckets ${s3.buckets.map((b) => `${b.name} (${b.region}, from ${b.from})`).join(', ')}`,
      `instance metadata: IMDSv2 stand-in (tools/rehearsal/assets/standin/imds.py, tokens required) on ${IMDS_IP} of ${s3.name}: each host gets ` +
      `its own instance role's credentials (${[...new Set(Object.values(s3.roles))].join(', ') || 'no roles in the stack'})`,
      'GCS: not stood in (the GCS repository is rendered and checked by the schema and unit tests only)',
    );
    for (const line of report.standIns.slice(-3)) log(`  stand-in: ${line}`);
  }
  const restoreGroup = fleet.groups[0];
  const spare: SpareHost | undefined = drills.some((d) => RESTORE_DRILLS.includes(d))
    ? { name: `${fleet.name}-restore`, ip: freeAddress(restoreGroup.clientSubnet, taken), subnet: restoreGroup.clientSubnet, group: restoreGroup.name }
    : undefined;
  if (s3 && spare) {
    // A machine built to restore the group: the same instance role as its members.
    const role = restoreGroup.members.map((m) => s3.roles[m.machine.privateIp]).find((r) => r);
    if (role) s3.roles[spare.ip] = role;
  }
  const workspace = options.workspace ?? DEFAULT_WORKSPACE;
  await cleanupLeftovers(log, workspace);
  const hosts = new TestHosts(networkPlan(fleet, objectStore, spare), log, workspace, { name: image.name, rootfs: image.rootfs });
  const certs = s3 ? await makeObjectStoreCertificates(s3) : undefined;
  if (s3 && certs) hosts.prepareRoot = (_name, upper, rootfs) => prepareRootForObjectStore(s3, certs.ca, upper, rootfs);
  hosts.dataDiskMb = dataDiskMb;
  for (const problem of (await Promise.all(fleet.machines.map((m) => validateUserData(hosts, m)))).filter((p): p is string => !!p)) {
    report.problems.push(problem);
  }
  let tornDown: Promise<void> | undefined;
  // Once only; a second caller (the main flow after a signal) waits for the same teardown.
  const teardown = () => {
    tornDown ??= (async () => {
      const failed = report.verdict !== 'pass';
      // By default next to the synthesized stacks (cdktf.out/rehearsal-logs), which git ignores.
      const logsDir = options.logsDir ?? (failed ? path.resolve(path.dirname(stack.file), '..', '..', 'rehearsal-logs') : undefined);
      if (logsDir) await collectLogs(hosts, fleet, logsDir, log);
      await hosts.destroy().catch((e) => log(`teardown: ${(e as Error).message}`));
    })();
    return tornDown;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`rehearsal: ${signal}: tearing down`);
    void teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const seed = options.seed ?? newSeed();
  try {
    await hosts.create();
    // add-group: the fleet runs the shrunk stack's mesh documents until the drill deploys the full stack's.
    const before = drills.includes('add-group') && options.shrunkStack
      ? documentsBeforeAddition(fleet.literalSecretValues, readSynthesizedStack(options.shrunkStack).literalSecretValues) : {};
    const secrets = await writeSecrets(hosts.secretsDir, fleet.secretNames, fleet.caSecret, fleet.name, { ...fleet.literalSecretValues, ...before });
    const access = new FleetAccess(hosts, fleet, secrets);
    if (s3 && certs) await startObjectStore(hosts, s3, certs, log);
    const lateBoot = await bootFleet(hosts, fleet, access, secrets, report, log, {
      order: options.bootOrder ?? 'together', spreadSeconds: options.bootSpreadS ?? 0, seed,
      lateGroup: drills.some((d) => HOLD_BACK_DRILLS.includes(d)) ? fleet.groups[fleet.groups.length - 1].name : undefined,
    });
    if (report.boot?.status === 'pass') {
      report.image.running = await runningVersions(hosts, fleet, access);
      log(`image: running ${JSON.stringify(report.image.running)}`);
      // A replaced machine: a new host booted under the destroyed one's name, whose user-data it gets.
      const bootReplacement = async (host: string) => {
        await hosts.boot(host);
        return fleet.machines.find((m) => m.machine.name === host)!;
      };
      const env: DrillEnv = {
        hosts, access, fleet, table: fleet.writerTable, log: (l) => log(`  ${l}`), rate: options.rate ?? 20,
        convergeTimeoutS: options.convergeTimeoutS ?? 150, profile: profileLabel(profileName(fleet.timing), fleet.timing),
        runId: randomBytes(3).toString('hex'), drillNumber: 0, active: new Set(), seed, repeat: options.repeat ?? 5,
        tolerateOrphans: options.tolerateOrphans ?? false, nextStack: options.nextStack, shrunkStack: options.shrunkStack, lateBoot,
        provision: async (host) => applyUserData(hosts, await bootReplacement(host), localSecretBackend(secrets.dir), 600_000),
        provisionStart: async (host) => (await startUserData(hosts, await bootReplacement(host), localSecretBackend(secrets.dir))) ?? Date.now(),
        objectStore: s3, spareHost: spare?.name, stackDir: path.dirname(stack.file),
      };
      if (options.sabotage) await sabotage(options.sabotage, hosts, access, fleet, log);
      log(tableHeader());
      const emit = (r: DrillResult) => {
        report.drills.push(r);
        log(tableRow(r));
        if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
      };
      // The check compares node groups, so it runs before remove-group leaves one group alone (that drill runs last).
      const checkAntiEntropy = () => antiEntropyAfterDrills(hosts, access, fleet, report, log, options.tolerateOrphans ?? false);
      let antiEntropyChecked = false;
      for (const drill of drills) {
        // ... and before long-partition, which leaves its node group needing a re-sync (its rows differ by design).
        if ((drill === 'remove-group' || drill === 'long-partition') && !options.sabotage && !antiEntropyChecked) {
          await checkAntiEntropy();
          antiEntropyChecked = true;
        }
        emit(await runDrill(drill, env));
      }
      for (const variant of options.timingVariants ?? []) {
        const variantDrills = drills.filter((d) => FAILOVER_DRILLS.includes(d));
        if (variantDrills.length === 0) continue;
        await setTiming(access, fleet, PATRONI_DEFAULT_TIMING, log);
        env.profile = profileLabel(variant, PATRONI_DEFAULT_TIMING);
        for (const drill of variantDrills) emit(await runDrill(drill, env));
      }
      if (!options.sabotage && !antiEntropyChecked) await checkAntiEntropy();
    }
  } catch (e) {
    report.problems.push((e as Error).message);
    log(`rehearsal: ${(e as Error).message}`);
  } finally {
    report.finishedAt = new Date().toISOString();
    report.verdict = verdictOf(report);
    if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    await teardown();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  log(summary(report));
  return report;
}

/** Where the rendered machines keep the anti-entropy check and its pairs (lib/render/paths.ts, anti-entropy.ts). */
const ANTI_ENTROPY = '/usr/local/lib/distributed-postgres/anti-entropy';

/**
 * The fleet's own anti-entropy check, run once on each node group's leader after the drills (as mesh-keeper runs it,
 * with the machine's member.env and mesh directory): every group must find the others' rows equal to its own. A fleet
 * whose machines have no such check (an earlier library) is noted, not failed.
 */
async function antiEntropyAfterDrills(hosts: TestHosts, access: FleetAccess, fleet: RehearsalFleet, report: RehearsalReport,
  log: (line: string) => void, tolerateOrphans: boolean): Promise<void> {
  const results: NonNullable<RehearsalReport['antiEntropy']> = [];
  // --tolerate-orphans: rows no client saw acknowledged that some groups kept (named by the drills) differ by design.
  const orphans = tolerateOrphans ? report.drills.reduce((n, d) => n + (d.orphanRows ?? 0), 0) : 0;
  for (const group of fleet.groups) {
    const leaderIp = await access.leaderOf(group.name).catch(() => undefined);
    const leader = group.members.find((m) => m.machine.privateIp === leaderIp)?.machine.name;
    if (!leader) {
      log(`anti-entropy: ${group.name}: no leader answers (a group the drills removed?): not checked`);
      continue;
    }
    const present = await hosts.exec(leader, ['test', '-x', ANTI_ENTROPY], { allowFail: true });
    if (present.code !== 0) {
      log(`anti-entropy: ${leader} has no ${ANTI_ENTROPY} (a fleet from an earlier library): not checked`);
      return;
    }
    // What mesh-keeper's own check last found there (a minute after taking the lead, then on its timer).
    const last = await hosts.exec(leader, ['cat', '/var/lib/distributed-postgres/anti-entropy.status'], { allowFail: true });
    const lastState = /^state=(.*)$/m.exec(last.stdout)?.[1] ?? 'none yet';
    log(`anti-entropy: ${group.name} (${leader}): mesh-keeper's last check: ${lastState}${/^updated=(.*)$/m.exec(last.stdout)?.[1] ? ` at ${/^updated=(.*)$/m.exec(last.stdout)![1]}` : ''}`);
    const r = await hosts.exec(leader, ['sh', '-c', '. /etc/distributed-postgres/member.env && runuser -u postgres -- env PGPASSFILE=/var/lib/postgresql/.pgpass ' +
      `${ANTI_ENTROPY} "$DPG_PG_BIN/psql" "host=/var/run/postgresql port=$DPG_PG_PORT dbname=$DPG_DATABASE" /etc/distributed-postgres/mesh/anti-entropy.sql`],
    { allowFail: true, timeoutMs: 600_000 });
    const lines = r.stdout.split('\n');
    const field = (name: string) => lines.filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1));
    const result = { group: group.name, leader, byMeshKeeper: lastState, state: r.code === 0 ? (field('state')[0] ?? 'unknown') : 'not run', findings: field('finding'), notes: r.code === 0 ? field('note') : [(r.stderr || r.stdout).trim().split('\n').pop() ?? ''] };
    results.push(result);
    log(`anti-entropy: ${group.name} (${leader}): ${result.state}, ${field('compared')[0] ?? 0} table and group pairs compared` +
      `${[...result.findings, ...result.notes].map((l) => `\n  ${l}`).join('')}`);
    if (result.state === 'dirty' && orphans > 0) {
      log(`anti-entropy: ${group.name}: tolerated (--tolerate-orphans: the drills named ${orphans} rows no client saw acknowledged)`);
    } else if (result.state === 'dirty') report.problems.push(`anti-entropy: node group ${group.name} holds rows that differ from its peers': ${result.findings.join('; ')}`);
  }
  report.antiEntropy = results;
}

/** What a booted host of the fleet actually runs (the versions the report shows next to the manifest's). */
async function runningVersions(hosts: TestHosts, fleet: RehearsalFleet, access: FleetAccess): Promise<NonNullable<ReportImage['running']>> {
  const host = (fleet.machines.find((m) => m.runsEtcd && m.patroni) ?? fleet.machines[0]).machine.name;
  const first = async (argv: string[]) => {
    const r = await hosts.exec(host, argv, { allowFail: true, timeoutMs: 30_000 });
    return r.code === 0 ? (r.stdout + r.stderr).trim().split('\n')[0] : undefined;
  };
  const postgres = (await access.query(fleet.groups[0].name, 'SELECT version()').catch(() => []))[0]?.[0];
  return {
    host, postgres, patroni: await first(['patroni', '--version']), etcd: await first(['etcd', '--version']),
    cloudInit: await first(['cloud-init', '--version']),
  };
}

function profileName(t: { ttl: number; loopWait: number; retryTimeout: number }): string {
  if (t.ttl === PATRONI_DEFAULT_TIMING.ttl && t.loopWait === PATRONI_DEFAULT_TIMING.loopWait && t.retryTimeout === PATRONI_DEFAULT_TIMING.retryTimeout) {
    return 'default';
  }
  return t.ttl < PATRONI_DEFAULT_TIMING.ttl ? 'fast' : 'custom';
}

/** Switches every group to another Patroni timing profile through its dynamic configuration (PATCH /config). */
async function setTiming(access: FleetAccess, fleet: RehearsalFleet, t: { ttl: number; loopWait: number; retryTimeout: number },
  log: (line: string) => void): Promise<void> {
  for (const g of fleet.groups) {
    const leader = await waitFor(`a leader in ${g.name}`, 90_000, () => access.leaderOf(g.name), 500);
    const [status, body] = await access.rest(g.name, leader, '/config', 'PATCH', { ttl: t.ttl, loop_wait: t.loopWait, retry_timeout: t.retryTimeout });
    if (status !== 200) throw new Error(`PATCH /config on ${leader} answered ${status}: ${body.slice(0, 200)}`);
  }
  log(`timing: switched every group to ttl ${t.ttl}, loop_wait ${t.loopWait}, retry_timeout ${t.retryTimeout}`);
  await sleep((t.loopWait + 2) * 1000);
}

async function collectLogs(hosts: TestHosts, fleet: RehearsalFleet, dir: string, log: (line: string) => void): Promise<void> {
  // Every host: the fleet's machines and the stand-in and spare hosts.
  for (const name of [...new Set([...fleet.machines.map((m) => m.machine.name), ...hosts.plan.hosts.map((h) => h.name)])]) {
    const m = { machine: { name } };
    const source = hosts.varLogDir(m.machine.name);
    const target = path.join(dir, m.machine.name);
    try {
      mkdirSync(target, { recursive: true });
      // cp -a, not fs.cpSync: the overlay's upper dir also holds whiteouts (character devices) of deleted files.
      if (existsSync(source)) await run('cp', ['-a', `${source}/.`, `${target}/`], { allowFail: true });
      const init = path.join(hosts.hostsDir, m.machine.name, 'init.log');
      if (existsSync(init)) writeFileSync(path.join(target, 'standin-init.log'), readFileSync(init));
    } catch (e) {
      log(`logs: ${m.machine.name}: ${(e as Error).message}`);
    }
  }
  log(`logs of every host copied to ${dir}`);
}
