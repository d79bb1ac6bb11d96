#!/usr/bin/env node
/**
 * dpg-rehearse: command line.
 *
 *   dpg-rehearse rehearse <stack dir> [--drills a,b,c] [--json out.json] [--timing-variants default]
 *                                       [--sabotage drop-subscription|drop-delta-apply] [--rate N] [--logs DIR]
 *                                       [--converge-timeout S] [--boot-order shuffle] [--boot-spread S] [--seed N]
 *   dpg-rehearse cleanup
 *
 * `rehearse` exits 0 when every drill passed, 1 on any lost or duplicated row, split brain, failed convergence or
 * boot problem, 2 on bad usage.
 */
import { newSeed } from './boot-plan';
import { campaign } from './campaign';
import { DRILLS, DrillName } from './drills';
import { rehearse, SABOTAGES, Sabotage, TIMING_VARIANTS, TimingVariant } from './rehearse';
import { BOOT_ORDERS, BootOrder } from './report';
import { cleanupLeftovers } from './workspace';

const USAGE = `usage:
  dpg-rehearse rehearse <stack dir | cdk.tf.json> [options]
      --drills a,b,c            drills to run (default: all): ${DRILLS.join(', ')}
      --timing-variants LIST    also run the failover drills under: ${TIMING_VARIANTS.join(', ')} (Patroni's defaults)
      --json FILE               write the report as JSON
      --sabotage KIND           break the mesh before the drills (${SABOTAGES.join(', ')}); the run must then fail
      --rate N                  rows per second per node group writer (default 20)
      --boot-order ORDER        ${BOOT_ORDERS.join(' | ')}: hosts start all at once (default) or in a random order
      --boot-spread S           with shuffle: hosts start at random offsets up to S seconds (default 0)
      --seed N                  seed of the boot order and offsets (default: random; printed and in the report)
      --runs N                  a campaign: N runs, shuffled boot, seeds seed..seed+N-1, spreads 0..--boot-spread s
      --converge-timeout S      longest wait for all groups to hold the same rows after a drill (default 150)
      --logs DIR                copy every host's /var/log to DIR (on failure: cdktf.out/rehearsal-logs by default)
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
      case '-h': case '--help': console.log(USAGE); return 0;
      default:
        if (flag.startsWith('-') || stack !== undefined) throw new UsageError(`unexpected argument ${arg}`);
        stack = arg;
    }
  }
  if (!stack) throw new UsageError('rehearse needs the synthesized stack directory, e.g. cdktf.out/stacks/rehearsal');
  if (runs !== undefined) {
    const rows = await campaign({ stack, drills, timingVariants, json, sabotage, rate, logsDir, convergeTimeoutS }, runs,
      seed ?? newSeed(), bootSpreadS ?? 0);
    return rows.every((r) => r.verdict === 'pass') ? 0 : 1;
  }
  if (bootSpreadS && bootOrder !== 'shuffle') throw new UsageError('--boot-spread needs --boot-order shuffle');
  const report = await rehearse({ stack, drills, timingVariants, json, sabotage, rate, logsDir, convergeTimeoutS, bootOrder, bootSpreadS, seed });
  return report.verdict === 'pass' ? 0 : 1;
}

/** Runs the command line and exits with its code (2 on bad usage). */
export function runCli(argv: string[]): void {
  main(argv).then((code) => process.exit(code), (e: Error) => {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
}

if (require.main === module) runCli(process.argv.slice(2));
