/** The verdict: any lost or duplicated row, split brain, divergence or boot problem fails the rehearsal. */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { bootPlan } from '../src/boot-plan';
import { main } from '../src/cli';
import { DrillResult, judge, RehearsalReport, summary, verdictOf } from '../src/report';

function drill(overrides: Partial<DrillResult> = {}): DrillResult {
  return {
    drill: 'kill-leader-member', profile: 'fast (ttl 20, loop_wait 2, retry_timeout 9)', status: 'pass', startedAt: '', durationS: 40,
    steps: [], writeGapS: { a: 20.5, b: 0.1 }, timeToLeaderS: 19.5, rows: {
      a: { acknowledged: 400, inDoubt: 1, present: { a: 400, b: 400 }, lost: 0, duplicated: 0 },
      b: { acknowledged: 400, inDoubt: 0, present: { a: 400, b: 400 }, lost: 0, duplicated: 0 },
    },
    lostRows: 0, duplicatedRows: 0, splitBrain: false, converged: true, notes: [], ...overrides,
  };
}

function report(drills: DrillResult[], problems: string[] = []): RehearsalReport {
  return {
    stack: 'x/cdk.tf.json', fleet: 'f', startedAt: '', machines: [], standIns: [], drills, problems,
    boot: { status: 'pass', order: 'together', seed: 1, spreadSeconds: 0, hosts: [], toWritableMeshS: 30, notes: [] },
  };
}

test('a drill passes only with no lost or duplicated row, no split brain, and convergence', () => {
  expect(judge(drill())).toBe('pass');
  expect(judge(drill({ lostRows: 1 }))).toBe('fail');
  expect(judge(drill({ duplicatedRows: 2 }))).toBe('fail');
  expect(judge(drill({ splitBrain: true }))).toBe('fail');
  expect(judge(drill({ converged: false }))).toBe('fail');
  expect(judge(drill({ status: 'n/a', converged: false }))).toBe('n/a');
  expect(judge(drill({ status: 'error' }))).toBe('error');
});

test('the rehearsal passes only when the boot and every drill passed (n/a drills aside)', () => {
  expect(verdictOf(report([drill(), drill({ drill: 'geoshard', status: 'n/a' })]))).toBe('pass');
  expect(verdictOf(report([drill(), drill({ status: 'fail' })]))).toBe('fail');
  expect(verdictOf(report([drill({ status: 'error' })]))).toBe('fail');
  expect(verdictOf(report([drill()], ['rehearse-a-pg1: the runcmd script failed']))).toBe('fail');
  expect(verdictOf({ ...report([drill()]), boot: { status: 'fail', order: 'together', seed: 1, spreadSeconds: 0, hosts: [], notes: [] } })).toBe('fail');
});

test('the summary table shows the figures', () => {
  const text = summary({ ...report([drill({ lostRows: 3, status: 'fail', notes: ['a lacks 3 acknowledged rows'] })]), verdict: 'fail' });
  expect(text).toMatch(/^kill-leader-member +fast +fail +40\.0 +20\.5 +19\.5 .* 800 +3 +0 +no/m);
  expect(text).toContain('kill-leader-member: a lacks 3 acknowledged rows');
  expect(text).toMatch(/verdict: fail$/);
});

test('the CLI reports bad usage and a missing stack clearly', async () => {
  await expect(main(['rehearse'])).rejects.toThrow(/needs the synthesized stack directory/);
  await expect(main(['rehearse', 'x', '--drills', 'kill-everything'])).rejects.toThrow(/unknown kill-everything/);
  await expect(main(['rehearse', 'x', '--rate', '0'])).rejects.toThrow(/positive number/);
  await expect(main(['frobnicate'])).rejects.toThrow(/unknown command frobnicate/);
  await expect(main(['rehearse', '/nonexistent/stack'])).rejects.toThrow(/no synthesized stack at \/nonexistent\/stack\. Fix: run `npm run synth`/);
});

test('the Python parts compile with the hosts\' own interpreter', () => {
  for (const file of ['standin/systemd.py', 'client/load.py']) {
    const source = path.join(__dirname, '../assets', file);
    // Compile in memory (no __pycache__ next to the sources).
    const r = spawnSync('/usr/bin/python3', ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', source]);
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
  }
});

describe('boot plan', () => {
  const names = ['a-pg1', 'a-pg2', 'a-pg3', 'b-pg1', 'b-pg2', 'b-pg3'];

  test('together: every host at once, in the stack order', () => {
    expect(bootPlan(names, 'together', 90, 7)).toEqual(names.map((name) => ({ name, startOffsetSeconds: 0 })));
  });

  test('shuffle: a permutation, first at 0, offsets sorted within the spread, the same for the same seed', () => {
    const plan = bootPlan(names, 'shuffle', 90, 12345);
    expect(plan.map((p) => p.name).sort()).toEqual([...names].sort());
    expect(plan[0].startOffsetSeconds).toBe(0);
    const offsets = plan.map((p) => p.startOffsetSeconds);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(Math.max(...offsets)).toBeLessThanOrEqual(90);
    expect(bootPlan(names, 'shuffle', 90, 12345)).toEqual(plan);
    // Different seeds give different plans (orders or offsets).
    const plans = new Set([1, 2, 3, 4, 5].map((seed) => JSON.stringify(bootPlan(names, 'shuffle', 90, seed))));
    expect(plans.size).toBe(5);
    expect(new Set([1, 2, 3, 4, 5].map((seed) => bootPlan(names, 'shuffle', 90, seed).map((p) => p.name).join())).size).toBeGreaterThan(1);
  });

  test('shuffle with no spread: a random order, all at once', () => {
    expect(bootPlan(names, 'shuffle', 0, 3).every((p) => p.startOffsetSeconds === 0)).toBe(true);
  });
});
