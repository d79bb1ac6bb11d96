#!/usr/bin/env node
/**
 * dpg-rehearse: command line.
 *
 *   dpg-rehearse rehearse <stack dir> [--drills a,b,c] [--json out.json] [--timing-variants default] [--repeat N]
 *                                       [--sabotage drop-subscription|drop-delta-apply] [--rate N] [--logs DIR]
 *                                       [--converge-timeout S] [--boot-order shuffle] [--boot-spread S] [--seed N]
 *   dpg-rehearse cleanup
 *   dpg-rehearse image build <name>|all [--force]
 *   dpg-rehearse image import <name> ROOTFS
 *   dpg-rehearse image list
 *
 * `rehearse` exits 0 when every drill passed, 1 on any lost or duplicated row, split brain, failed convergence or
 * boot problem, 2 on bad usage.
 */
import { newSeed } from './boot-plan';
import { campaign } from './campaign';
import { DEFAULT_DRILLS, DRILLS, DrillName, LONG_PARTITION_DISK_MB, OPT_IN_DRILLS } from './drills';
import { rehearse, SABOTAGES, Sabotage, TIMING_VARIANTS, TimingVariant } from './rehearse';
import { BOOT_ORDERS, BootOrder } from './report';
import {
  buildImage, BUILT_IMAGES, describeVersions, IMAGE_CACHE, IMAGE_NAMES, imageDirName, imageHash, importedDirName, importImage, IMPORTED_IMAGES, isImported,
  listImages,
} from './images';
import { TestHosts } from './hosts';
import { cleanupLeftovers, Workspace } from './workspace';

const USAGE = `usage:
  dpg-rehearse rehearse <stack dir | cdk.tf.json> [options]
      --drills a,b,c            drills to run (default: ${DEFAULT_DRILLS.join(', ')}; only when named: ${OPT_IN_DRILLS.join(', ')})
      --repeat N                failover-campaign: number of leader-machine crashes (default 5)
      --next STACK              mesh-update: the synthesized stack the fleet is updated to (e.g. cdktf.out/stacks/rehearsal-next)
      --shrunk STACK            remove-group: the synthesized stack without a node group, which the fleet shrinks to
                                (e.g. cdktf.out/stacks/rehearsal-shrunk); the drill destroys that group's machines and runs last
      --tolerate-orphans        rows never acknowledged that some groups kept (the provider-side window where it is open:
                                pglogical, Spock, native on 16) are counted, not failed; acknowledged rows still must be everywhere
      --timing-variants LIST    also run the failover drills under: ${TIMING_VARIANTS.join(', ')} (Patroni's defaults)
      --json FILE               write the report as JSON
      --sabotage KIND           break the mesh before the drills (${SABOTAGES.join(', ')}); the run must then fail
      --rate N                  rows per second per node group writer (default 20)
      --boot-order ORDER        ${BOOT_ORDERS.join(' | ')}: hosts start all at once (default) or in a random order
      --boot-spread S           with shuffle: hosts start at random offsets up to S seconds (default 0)
      --seed N                  seed of the boot order and offsets (default: random; printed and in the report)
      --runs N                  a campaign: N runs, shuffled boot, seeds seed..seed+N-1, spreads 0..--boot-spread s
      --data-disk-mb N          each host's data disk is a file system of N MB (a tmpfs), so max_slot_wal_keep_size and the
                                archive queue follow it (default: a directory of the rehearsal's tmpfs; long-partition: ${LONG_PARTITION_DISK_MB})
      --converge-timeout S      longest wait for all groups to hold the same rows after a drill (default 150)
      --logs DIR                copy every host's /var/log to DIR (on failure: cdktf.out/rehearsal-logs by default)
      --no-build                refuse when the stack's image is not built yet (default: build it, printing the time)
  dpg-rehearse image build <${BUILT_IMAGES.join('|')}|all> [--force]
      build images (cached in ${IMAGE_CACHE}/<name>-<hash12>; rebuilt only when a recipe input changes)
  dpg-rehearse image import <${Object.keys(IMPORTED_IMAGES).join('|')}> ROOTFS
      import a golden image no recipe here builds (a root filesystem directory); its smoke test runs in it first
  dpg-rehearse image list
      the images in the cache, their build time, size and versions
  dpg-rehearse image check <name>
      boot one test host from the image (building it if needed) and print what it runs
  dpg-rehearse cleanup
      remove the namespaces, processes and mounts a crashed rehearsal left behind
`;

class UsageError extends Error {}

function list<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T[] {
  if (value === undefined) throw new UsageError(`${flag} needs a value`);
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i as T));
  if (bad.length) throw new UsageError(`${flag}: unknown ${bad.join(', ')} (choose from ${allowed.join(', ')})`);
  return items as T[];
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || ['help', '-h', '--help'].includes(command)) {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'cleanup') {
    const removed = await cleanupLeftovers((l) => console.log(l));
    console.log(removed.length ? removed.join('\n') : 'nothing to clean up');
    return 0;
  }
  if (command === 'image') return image(rest);
  if (command !== 'rehearse') throw new UsageError(command ? `unknown command ${command}` : 'no command');
  let stack: string | undefined;
  let drills: DrillName[] | undefined;
  let timingVariants: TimingVariant[] | undefined;
  let json: string | undefined;
  let sabotage: Sabotage | undefined;
  let rate: number | undefined;
  let logsDir: string | undefined;
  let convergeTimeoutS: number | undefined;
  let bootOrder: BootOrder | undefined;
  let bootSpreadS: number | undefined;
  let seed: number | undefined;
  let runs: number | undefined;
  let repeat: number | undefined;
  let tolerateOrphans = false;
  let nextStack: string | undefined;
  let shrunkStack: string | undefined;
  let build = true;
  let dataDiskMb: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? rest[++i];
    switch (flag) {
      case '--drills': drills = list(value(), DRILLS, flag); break;
      case '--timing-variants': timingVariants = list(value(), TIMING_VARIANTS, flag); break;
      case '--json': json = value(); break;
      case '--sabotage': sabotage = list(value(), SABOTAGES, flag)[0]; break;
      case '--rate': rate = Number(value()); if (!(rate > 0)) throw new UsageError('--rate needs a positive number'); break;
      case '--logs': logsDir = value(); break;
      case '--converge-timeout':
        convergeTimeoutS = Number(value());
        if (!(convergeTimeoutS > 0)) throw new UsageError('--converge-timeout needs a positive number of seconds');
        break;
      case '--boot-order': bootOrder = list(value(), BOOT_ORDERS, flag)[0]; break;
      case '--boot-spread':
        bootSpreadS = Number(value());
        if (!(bootSpreadS >= 0)) throw new UsageError('--boot-spread needs a number of seconds (0 or more)');
        break;
      case '--seed':
        seed = Number(value());
        if (!Number.isInteger(seed) || seed < 0) throw new UsageError('--seed needs a whole number (0 or more)');
        break;
      case '--runs':
        runs = Number(value());
        if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs needs a whole number (1 or more)');
        break;
      case '--repeat':
        repeat = Number(value());
        if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError('--repeat needs a whole number (1 or more)');
        break;
      case '--no-build': build = false; break;
      case '--data-disk-mb':
        dataDiskMb = Number(value());
        if (!Number.isInteger(dataDiskMb) || dataDiskMb < 256) throw new UsageError('--data-disk-mb needs a whole number of MB (256 or more)');
        break;
      case '--tolerate-orphans': tolerateOrphans = true; break;
      case '--next': nextStack = value(); break;
      case '--shrunk': shrunkStack = value(); break;
      case '-h': case '--help': console.log(USAGE); return 0;
      default:
        if (flag.startsWith('-') || stack !== undefined) throw new UsageError(`unexpected argument ${arg}`);
        stack = arg;
    }
  }
  if (!stack) throw new UsageError('rehearse needs the synthesized stack directory, e.g. cdktf.out/stacks/rehearsal');
  if (runs !== undefined) {
    const rows = await campaign({ stack, drills, timingVariants, json, sabotage, rate, logsDir, convergeTimeoutS, repeat, tolerateOrphans, nextStack, shrunkStack, dataDiskMb }, runs,
      seed ?? newSeed(), bootSpreadS ?? 0);
    return rows.every((r) => r.verdict === 'pass') ? 0 : 1;
  }
  if (bootSpreadS && bootOrder !== 'shuffle') throw new UsageError('--boot-spread needs --boot-order shuffle');
  const report = await rehearse({ stack, drills, timingVariants, json, sabotage, rate, logsDir, convergeTimeoutS, bootOrder, bootSpreadS, seed, build, repeat, tolerateOrphans, nextStack, shrunkStack, dataDiskMb });
  return report.verdict === 'pass' ? 0 : 1;
}

/** Boots one host from an image in a workspace of its own and prints the versions it runs. */
async function imageCheck(name: string | undefined): Promise<number> {
  if (!name || !(IMAGE_NAMES as readonly string[]).includes(name)) throw new UsageError(`image check needs one of ${IMAGE_NAMES.join(', ')}`);
  const built = await buildImage(name, (l) => console.log(l));
  const workspace: Workspace = { root: '/srv/dpg-rehearsal-image-check', prefix: 'dpgi-' };
  await cleanupLeftovers(() => undefined, workspace);
  const hosts = new TestHosts({
    hosts: [{ name: `check-${name}`, ip: '10.251.0.10', subnet: '10.251.0.0/24', side: 'a' }], clients: [], subnets: ['10.251.0.0/24'],
  }, (l) => console.log(l), workspace, { name, rootfs: built.rootfs });
  try {
    await hosts.create();
    const t0 = Date.now();
    await hosts.boot(`check-${name}`);
    console.log(`host check-${name} booted from ${built.dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The versions, then the stand-in running the image's own units: etcd, and a PostgreSQL cluster.
    const commands = [
      'cat /etc/debian_version', 'python3 --version', 'psql --version', 'for d in /usr/lib/postgresql/*/bin; do $d/postgres --version; done',
      'patroni --version', 'etcd --version | head -1', 'etcdctl version | head -1', 'cloud-init --version 2>&1',
      'systemctl start etcd && sleep 3 && systemctl is-active etcd && ETCDCTL_API=3 etcdctl endpoint health 2>&1',
      'v=$(ls /usr/lib/postgresql | sort -n | tail -1); test -x /usr/bin/pg_createcluster && pg_createcluster -q "$v" check && ' +
        'systemctl start "postgresql@$v-check" && sleep 2 && su postgres -c "psql -XAtc \'SELECT version()\'" || tail -n 8 "/var/log/standin/postgresql@$v-check.service.log"',
    ];
    const r = await hosts.exec(`check-${name}`, ['sh', '-c',
      commands.map((c) => `echo '$ ${c.replace(/'/g, "'\\''")}'; ${c}`).join('; ')], { allowFail: true, timeoutMs: 120_000 });
    console.log(r.stdout + r.stderr);
    return r.code;
  } finally {
    await hosts.destroy();
  }
}

async function image(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const images = listImages();
    if (images.length === 0) console.log(`no images in ${IMAGE_CACHE}`);
    for (const i of images) {
      console.log(`${i.name.padEnd(10)} ${imageDirName(i.name, i.manifest.hash)}  ${i.current ? 'current' : 'stale  '}  built ${i.manifest.builtAt} ` +
        `in ${i.manifest.buildSeconds} s  ${(i.manifest.sizeBytes / 1e6).toFixed(0)} MB  ${describeVersions(i.manifest.versions)}`);
    }
    for (const name of IMAGE_NAMES.filter((n) => !images.some((i) => i.current && i.name === n))) {
      console.log(isImported(name)
        ? `${name.padEnd(10)} ${importedDirName(name)}  not imported (image import ${name} ROOTFS; it must hold: ${IMPORTED_IMAGES[name]})`
        : `${name.padEnd(10)} ${imageDirName(name, imageHash(name))}  not built`);
    }
    return 0;
  }
  if (sub === 'check') return imageCheck(rest[0]);
  if (sub === 'import') {
    if (rest.length !== 2 || !isImported(rest[0])) throw new UsageError(`image import needs a golden image name (${Object.keys(IMPORTED_IMAGES).join(', ')}) and a root filesystem directory`);
    const imported = await importImage(rest[0], rest[1], (l) => console.log(l));
    console.log(`image ${rest[0]}: ${imported.dir} ready`);
    return 0;
  }
  if (sub !== 'build') throw new UsageError(`image: unknown subcommand ${sub ?? '(none)'} (build, import, list, check)`);
  const force = rest.includes('--force');
  const names = rest.filter((a) => a !== '--force');
  if (names.length !== 1) throw new UsageError(`image build needs one of ${BUILT_IMAGES.join(', ')}, all`);
  const wanted = names[0] === 'all' ? [...BUILT_IMAGES] : [names[0]];
  for (const n of wanted) if (!(IMAGE_NAMES as readonly string[]).includes(n)) throw new UsageError(`image build: unknown image ${n} (${IMAGE_NAMES.join(', ')}, all)`);
  let failed = 0;
  for (const name of wanted) {
    const t0 = Date.now();
    try {
      const built = await buildImage(name, (l) => console.log(l), { force });
      console.log(`image ${name}: ${built.dir} ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      failed++;
      console.error((e as Error).message);
    }
  }
  return failed ? 1 : 0;
}

/** Runs the command line and exits with its code (2 on bad usage). */
export function runCli(argv: string[]): void {
  main(argv).then((code) => process.exit(code), (e: Error) => {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    // A refusal the rehearsal explains (no image, missing package, no stack...) needs no stack trace.
    console.error(/^(rehearsal|image) /.test(e.message) || e.message.startsWith('rehearsal:') ? e.message : (e.stack ?? e.message));
    process.exit(1);
  });
}

if (require.main === module) runCli(process.argv.slice(2));
