/**
 * Which of the stack's alerts the real promtool fires on what the exporters served: the scraped expositions become
 * promtool's input series (constant for 10 minutes, each with the `instance` Prometheus would give it and an `up` of
 * 1), and `promtool test rules` evaluates the synthesized `alerts.rules.yml` at 5 minutes. Each alert is expected to
 * stay silent, so promtool prints, for each one that fires, what it got: those are the firing alerts.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run } from '../shell';
import { series } from './metrics';

export const PROMTOOL = '/usr/bin/promtool';

export interface Scraped {
  /** `host:port`, as Prometheus labels the target. */
  readonly instance: string;
  /** The exposition text. */
  readonly text: string;
}

/**
 * Input series of one exposition: the fleet's own series (`dpg_*`) and the data disk's, labelled with the target, each
 * constant for 10 minutes; the target's `up` first. Lines whose value is not a finite number (`NaN`, `+Inf`) are left out.
 */
export function inputSeries(s: Scraped): { series: string; values: string }[] {
  const instance = `instance=${JSON.stringify(s.instance)}`;
  const out = [{ series: `up{${instance}}`, values: '1x20' }];
  for (const [name, labels, value] of series(s.text)) {
    if (!/^(dpg_|node_filesystem_)/.test(name) || !Number.isFinite(value)) continue;
    // The exposition allows a trailing comma in the label list; a series selector does not take two.
    const own = labels.slice(1, -1).replace(/,\s*$/, '');
    out.push({ series: `${name}{${own ? `${own},` : ''}${instance}}`, values: `${value}x20` });
  }
  return out;
}

/**
 * The alerts among `alertnames` that fire at 5 minutes on `scraped`, each with the label sets promtool printed;
 * undefined when promtool or the rules file is not there (the caller says so).
 */
export async function firingAlerts(rulesFile: string, scraped: Scraped[], alertnames: string[]): Promise<Map<string, string[]> | undefined> {
  if (!existsSync(PROMTOOL) || !existsSync(rulesFile)) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dpg-alert-check-'));
  const test = {
    // promtool reads rule_files relative to the test file.
    rule_files: [path.resolve(rulesFile)],
    evaluation_interval: '30s',
    tests: [{
      interval: '30s',
      input_series: scraped.flatMap(inputSeries),
      alert_rule_test: alertnames.map((alertname) => ({ eval_time: '5m', alertname, exp_alerts: [] })),
    }],
  };
  const file = path.join(dir, 'alert-check.test.json');
  // promtool reads YAML, of which JSON is a subset.
  writeFileSync(file, JSON.stringify(test, null, 1));
  const r = await run(PROMTOOL, ['test', 'rules', file], { allowFail: true, timeoutMs: 60_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  if (/no file match pattern/.test(out) || (r.code !== 0 && !/FAILED:/.test(out))) throw new Error(`promtool test rules: ${out.trim().split('\n').slice(-5).join(' / ')}`);
  const firing = new Map<string, string[]>();
  for (const m of out.matchAll(/Labels:\{(alertname="([A-Za-z0-9_]+)"[^}]*)\}/g)) {
    firing.set(m[2], [...(firing.get(m[2]) ?? []), m[1]]);
  }
  return firing;
}
