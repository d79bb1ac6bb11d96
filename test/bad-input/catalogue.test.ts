/**
 * Every declaration of the bad-input catalogue (cases.ts) is rejected in the constructor: one
 * FleetValidationError naming the construct path, the rule id and the fix; nothing written to the
 * outdir; no stack trace of our internals in what the user sees.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { DistributedPostgres, FleetValidationError } from '../../lib';
import { ledgerFleet } from '../fixtures/fleets';
import { BAD_INPUTS, Category } from './cases';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh app and stack with the providers the ledger needs, so each case fails for its own reason only. */
function ledgerStack(): { app: App; stack: TerraformStack; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-input-'));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'stack');
  for (const region of ['us-east-1', 'eu-west-1']) new AwsProvider(stack, `aws-${region}`, { region, alias: region });
  new GoogleProvider(stack, 'google', { project: 'ledger-project', region: 'europe-west3' });
  return { app, stack, outdir };
}

function declaration(change: (props: any) => void): unknown {
  const props = JSON.parse(JSON.stringify(ledgerFleet()));
  change(props);
  return props;
}

/** A stack frame of this library (lib/), e.g. `    at normalize (/work/main/lib/declaration/normalize.ts:12:3)`. */
const OUR_FRAME = /^\s+at .*[/\\]lib[/\\]/m;

test('the unchanged reference declaration is accepted (each case fails for its own change)', () => {
  const { stack } = ledgerStack();
  expect(() => new DistributedPostgres(stack, 'Fleet', declaration(() => undefined) as any)).not.toThrow();
});

test('the catalogue covers every category with at least 40 cases', () => {
  expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(40);
  const categories: Category[] = ['wrong type', 'empty list', 'unknown region', 'overlapping CIDRs', 'impossible quorum', 'geoshard mistake',
    'engine/version mismatch', 'invalid name', 'injection', 'typo', 'provider wiring'];
  for (const c of categories) expect(BAD_INPUTS.filter((b) => b.category === c).length).toBeGreaterThan(0);
  expect(new Set(BAD_INPUTS.map((b) => b.name)).size).toBe(BAD_INPUTS.length);
});

describe.each(BAD_INPUTS.map((b) => [`${b.category}: ${b.name}`, b] as const))('%s', (_title, bad) => {
  test('is rejected at construction with the rule, the path and the fix; nothing is written', () => {
    const { app, stack, outdir } = ledgerStack();
    let error: unknown;
    let synthesized = false;
    try {
      new DistributedPostgres(stack, 'Fleet', declaration(bad.change) as any);
      app.synth();
      synthesized = true;
    } catch (e) {
      error = e;
    }
    expect(synthesized).toBe(false);
    expect(error).toBeInstanceOf(FleetValidationError);
    const message = (error as Error).message;
    expect(message).toMatch(/^DistributedPostgres 'stack\/Fleet' has \d+ problem\(s\) in its declaration; nothing was synthesized\.\n/);
    const linesOf = (rule: string) => message.split(/\n(?=\s+\d+\. \[)/).filter((line) => line.includes(`[${rule}]`));
    for (const { rule, fragment, times } of bad.expected) {
      const lines = linesOf(rule);
      expect(lines.length).toBeGreaterThan(0);
      if (times !== undefined) expect(lines.length).toBe(times);
      expect(lines.some((line) => fragment.test(line))).toBe(true);
    }
    for (const rule of bad.absent ?? []) expect(linesOf(rule)).toEqual([]);
    expect(message).toMatch(/Fix: /);
    expect(message).not.toMatch(OUR_FRAME);
    expect((error as Error).stack ?? '').not.toMatch(OUR_FRAME);
    expect(filesUnder(outdir)).toEqual([]);
  });
});

/**
 * Oversized user-data: 200 custom parameters of 200 random characters render a cloud-config of ~59 KB (~25 KB
 * gzipped), above AWS's 16 KB. The construct renders every machine's user-data before creating anything and reports
 * the size as a DPG-USER-DATA finding of the declaration.
 */
test('oversized user-data is rejected as a declaration problem of the construct', () => {
  const { app, stack, outdir } = ledgerStack();
  // Deterministic characters that gzip cannot fold away (hex of chained SHA-256 digests).
  const value = (i: number): string => Array.from({ length: 4 }, (_, j) => createHash('sha256').update(`${i}.${j}`).digest('hex')).join('').slice(0, 200);
  const props = declaration((p) => {
    p.postgres = { parameters: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`app.setting_${i}`, value(i)])) };
  });
  let error: unknown;
  try {
    new DistributedPostgres(stack, 'Fleet', props as any);
    app.synth();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(FleetValidationError);
  const message = (error as Error).message;
  expect(message).toMatch(/^DistributedPostgres 'stack\/Fleet' has \d+ problem\(s\)/);
  expect(message).toMatch(/user-data/i);
  expect((error as Error).stack ?? '').not.toMatch(OUR_FRAME);
  expect(filesUnder(outdir)).toEqual([]);
});
