/**
 * The reference stacks (stacks/main.ts) pass the policy pack with zero findings: every resource the cloud
 * constructs create, and every fleet topology, checked by the same Aspect users apply.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { DistributedPostgres } from '../../lib';
import { applyPolicyPack, evaluateTerraformJson } from '../../lib/policy';
import { buildApp } from '../../stacks/main';
import { annotationsOf } from './helpers';

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-reference-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
const app = buildApp(outdir);
applyPolicyPack(app);
const stacks = app.node.children.filter((c): c is TerraformStack => TerraformStack.isStack(c));

test('there are reference stacks with fleets in them', () => {
  expect(stacks.map((s) => s.node.id)).toEqual(expect.arrayContaining(['ledger', 'rehearsal']));
  for (const stack of stacks) expect(stack.node.findAll().some((c) => c instanceof DistributedPostgres)).toBe(true);
});

describe.each(stacks.map((s) => [s.node.id, s] as const))('%s', (_id, stack) => {
  test('synthesizes with validations and no policy finding', () => {
    const json = JSON.parse(Testing.synth(stack, true));
    const findings = annotationsOf(stack).filter((a) => /^\[DPG-P\d{3}\]/.test(a.text) && a.level !== 'info');
    expect(findings.map((f) => `${f.path} ${f.text}`)).toEqual([]);
    const fleets = stack.node.findAll().filter((c): c is DistributedPostgres => c instanceof DistributedPostgres);
    for (const fleet of fleets) {
      expect(evaluateTerraformJson(json, { topology: fleet.topology }).map((r) => r.text)).toEqual([]);
    }
  });
});
