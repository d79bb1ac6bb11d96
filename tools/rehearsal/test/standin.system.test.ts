/**
 * The systemd stand-in with real processes, outside any namespace: its unit directory, /run and log directory are
 * redirected into a temporary directory (STANDIN_* variables). Units run as root here except where User= says.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const STANDIN = path.join(__dirname, '../assets/standin/systemd.py');

describe('systemd stand-in', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'standin-'));
  const env = {
    ...process.env,
    STANDIN_UNIT_PATHS: path.join(root, 'units'),
    STANDIN_RUN_DIR: path.join(root, 'run'),
    STANDIN_LOG_DIR: path.join(root, 'log'),
  };
  let init: ChildProcess;
  jest.setTimeout(30_000);

  const unit = (name: string, text: string) => writeFileSync(path.join(root, 'units', name), text);
  const systemctl = (...args: string[]) => {
    try {
      return { code: 0, out: execFileSync('/usr/bin/python3', [STANDIN, 'systemctl', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString() };
    } catch (e) {
      const err = e as { status: number; stdout: Buffer; stderr: Buffer };
      return { code: err.status, out: `${err.stdout}${err.stderr}` };
    }
  };
  const mainPid = (name: string) => Number(systemctl('show', name, '-p', 'MainPID', '--value').out.trim());
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    for (const d of ['units', 'run', 'log']) execFileSync('mkdir', ['-p', path.join(root, d)]);
    init = spawn('/usr/bin/python3', [STANDIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => init.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); }));
  });

  afterAll(async () => {
    for (const name of ['sleeper', 'notifier', 'flaky', 'group']) systemctl('stop', name);
    init.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  test('starts a service as its User= with Environment= and EnvironmentFile=, and stops it', () => {
    writeFileSync(path.join(root, 'env'), 'FROM_FILE="from file"\n# comment\n');
    unit('sleeper.service', [
      '[Service]', 'User=postgres', 'Environment="GREETING=hello world"', `EnvironmentFile=${root}/env`,
      `EnvironmentFile=-${root}/missing`, "ExecStartPre=/bin/sh -c 'echo pre $GREETING $(id -un)'",
      "ExecStart=/bin/sh -c 'echo main ${GREETING} \"$FROM_FILE\"; exec sleep 1000'",
      '[Install]', 'WantedBy=multi-user.target', '',
    ].join('\n'));
    expect(systemctl('enable', '--now', 'sleeper').code).toBe(0);
    expect(systemctl('is-enabled', 'sleeper').out.trim()).toBe('enabled');
    expect(systemctl('is-active', 'sleeper')).toEqual({ code: 0, out: 'active\n' });
    const pid = mainPid('sleeper');
    expect(execFileSync('ps', ['-o', 'user=,args=', '-p', String(pid)]).toString().trim()).toBe('postgres sleep 1000');
    const log = readFileSync(path.join(root, 'log', 'sleeper.service.log'), 'utf8');
    expect(log).toContain('pre hello world postgres');
    expect(log).toContain('main hello world from file');
    expect(systemctl('stop', 'sleeper').code).toBe(0);
    expect(systemctl('is-active', 'sleeper')).toEqual({ code: 3, out: 'inactive\n' });
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(systemctl('disable', 'sleeper').code).toBe(0);
    expect(systemctl('is-enabled', 'sleeper')).toEqual({ code: 1, out: 'disabled\n' });
  });

  test('Type=notify: start returns once the service sends READY=1', () => {
    const notify = path.join(root, 'notify.py');
    writeFileSync(notify, "import os, socket\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.connect(os.environ['NOTIFY_SOCKET'])\ns.send(b'READY=1')\n");
    unit('notifier.service', ['[Service]', 'Type=notify', `ExecStart=/bin/sh -c 'sleep 1; /usr/bin/python3 ${notify}; exec sleep 1000'`, ''].join('\n'));
    const started = Date.now();
    expect(systemctl('start', 'notifier').code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(systemctl('is-active', 'notifier').out.trim()).toBe('active');
  });

  test('Restart=on-failure brings a killed service back; a clean stop does not', async () => {
    unit('flaky.service', ['[Service]', 'ExecStart=/bin/sleep 1000', 'Restart=on-failure', 'RestartSec=0.2', ''].join('\n'));
    expect(systemctl('start', 'flaky').code).toBe(0);
    const first = mainPid('flaky');
    process.kill(first, 'SIGKILL');
    await sleep(1000);
    const second = mainPid('flaky');
    expect(second).toBeGreaterThan(0);
    expect(second).not.toBe(first);
    expect(systemctl('stop', 'flaky').code).toBe(0);
    await sleep(500);
    expect(systemctl('is-active', 'flaky').out.trim()).toBe('inactive');
  });

  test('KillMode=control-group (the default) stops the children too', async () => {
    unit('group.service', ['[Service]', "ExecStart=/bin/sh -c 'sleep 1001 & exec sleep 1000'", ''].join('\n'));
    expect(systemctl('start', 'group').code).toBe(0);
    await sleep(300);
    const child = execFileSync('pgrep', ['-f', '^sleep 1001$']).toString().trim();
    expect(systemctl('stop', 'group').code).toBe(0);
    await sleep(200);
    // Gone, or a zombie waiting for its new parent to reap it.
    const state = existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1][0] : 'gone';
    expect(['gone', 'Z']).toContain(state);
  });

  test('Condition*= skips a unit quietly; a missing unit is an error', () => {
    unit('conditional.service', ['[Unit]', `ConditionPathExists=${root}/nope`, '[Service]', 'ExecStart=/bin/sleep 1000', ''].join('\n'));
    expect(systemctl('start', 'conditional').code).toBe(0);
    expect(systemctl('is-active', 'conditional').out.trim()).toBe('inactive');
    expect(systemctl('start', 'no-such-unit').code).toBe(5);
  });

  test('a oneshot fails its start when the command fails; timers run their service on OnBootSec/OnUnitActiveSec', async () => {
    unit('failing.service', ['[Service]', 'Type=oneshot', 'ExecStart=/bin/false', ''].join('\n'));
    expect(systemctl('start', 'failing').code).toBe(1);
    expect(systemctl('is-failed', 'failing').out.trim()).toBe('failed');
    const ticks = path.join(root, 'ticks');
    unit('tick.service', ['[Service]', 'Type=oneshot', `ExecStart=/bin/sh -c 'echo tick >> ${ticks}'`, ''].join('\n'));
    unit('tick.timer', ['[Timer]', 'OnBootSec=0.1', 'OnUnitActiveSec=1', '[Install]', 'WantedBy=timers.target', ''].join('\n'));
    expect(systemctl('enable', '--now', 'tick.timer').code).toBe(0);
    await sleep(2800);
    systemctl('stop', 'tick.timer');
    const count = readFileSync(ticks, 'utf8').trim().split('\n').length;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(count).toBeLessThanOrEqual(4);
  });

  test('mask makes a unit unstartable; systemctl without PID 1 says so', () => {
    unit('masked.service', ['[Service]', 'ExecStart=/bin/sleep 1000', ''].join('\n'));
    expect(systemctl('mask', 'masked').code).toBe(0);
    expect(systemctl('start', 'masked')).toEqual(expect.objectContaining({ code: 1 }));
    const lonely = spawnSync('/usr/bin/python3', [STANDIN, 'systemctl', 'is-system-running'], {
      env: { ...env, STANDIN_RUN_DIR: path.join(root, 'nowhere') },
    });
    expect(lonely.status).toBe(1);
    expect(lonely.stderr.toString()).toMatch(/not been booted with systemd/);
  });
});
