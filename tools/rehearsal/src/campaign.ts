/**
 * A campaign: the same rehearsal run again and again with a different seed and boot spread each time, because a
 * drill that fails one time in ten is a bug. Run i (0-based) of n gets seed `seed + i` and spread
 * `maxSpread * i / (n - 1)` (0 s up to the maximum), shuffled boot. Prints one line per run and the table.
 */
import { writeFileSync } from 'fs';
import { rehearse, RehearseOptions } from './rehearse';
import { RehearsalReport } from './report';

export interface CampaignRun {
  readonly run: number;
  readonly seed: number;
  readonly spreadSeconds: number;
  readonly verdict: string;
  readonly toWritableMeshS?: number;
  readonly afterLastStartS?: number;
  readonly slowestBootstrapS?: number;
  readonly bootstrapRetries: number;
  readonly lostRows: number;
  readonly problems: string[];
}

export function campaignPlan(runs: number, seed: number, maxSpreadS: number): { seed: number; spreadSeconds: number }[] {
  return Array.from({ length: runs }, (_, i) => ({
    seed: seed + i,
    spreadSeconds: runs === 1 ? maxSpreadS : Math.round((maxSpreadS * i) / (runs - 1)),
  }));
}

export function campaignRow(run: number, report: RehearsalReport): CampaignRun {
  const boot = report.boot;
  return {
    run, seed: boot?.seed ?? -1, spreadSeconds: boot?.spreadSeconds ?? 0, verdict: report.verdict ?? 'unfinished',
    toWritableMeshS: boot?.toWritableMeshS, afterLastStartS: boot?.afterLastStartS, slowestBootstrapS: boot?.slowestBootstrapS,
    bootstrapRetries: (boot?.hosts ?? []).reduce((n, h) => n + Math.max(0, (h.bootstrapAttempts ?? 1) - 1), 0),
    lostRows: report.drills.reduce((n, d) => n + d.lostRows, 0),
    problems: report.problems.map((p) => p.split('\n')[0]),
  };
}

export function campaignTable(rows: CampaignRun[]): string {
  const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1));
  return [
    '| run | seed | spread s | verdict | writable, replicating mesh s | after the last start s | slowest bootstrap s | bootstrap retries | lost rows |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.run} | ${r.seed} | ${r.spreadSeconds} | ${r.verdict} | ${f(r.toWritableMeshS)} | ${f(r.afterLastStartS)} | ` +
      `${f(r.slowestBootstrapS)} | ${r.bootstrapRetries} | ${r.lostRows} |`),
  ].join('\n');
}

/** Runs the campaign; resolves with every run's row (the exit code is 0 only when all passed). */
export async function campaign(base: RehearseOptions, runs: number, seed: number, maxSpreadS: number,
  log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<CampaignRun[]> {
  const rows: CampaignRun[] = [];
  const reports: RehearsalReport[] = [];
  for (const [i, plan] of campaignPlan(runs, seed, maxSpreadS).entries()) {
    log(`campaign: run ${i + 1} of ${runs}: seed ${plan.seed}, spread ${plan.spreadSeconds} s`);
    const report = await rehearse({ ...base, json: undefined, bootOrder: 'shuffle', bootSpreadS: plan.spreadSeconds, seed: plan.seed });
    reports.push(report);
    rows.push(campaignRow(i + 1, report));
    log(`campaign: run ${i + 1}: ${report.verdict}`);
    if (base.json) writeFileSync(base.json, `${JSON.stringify({ runs: rows, reports }, null, 2)}\n`);
  }
  log(campaignTable(rows));
  log(`campaign: ${rows.filter((r) => r.verdict === 'pass').length} of ${runs} runs passed`);
  return rows;
}
