/**
 * Real test hosts (network, mount and PID namespaces) with the systemd stand-in as PID 1. Needs root and iproute2;
 * takes about two seconds and removes everything it made.
 */
import { execFileSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { NetworkPlan, TestHosts } from '../src/hosts';
import { cachedImage } from '../src/images';
import { cleanupLeftovers, Workspace } from '../src/workspace';

// The Debian packages are checked before any system test (test/system/requirements.js); the image is this suite's own.
if (!cachedImage('debian-12')) {
  throw new Error('test hosts need the debian-12 image: node tools/rehearsal/dist/cli.js image build debian-12 (.ci/run builds it)');
}

// Its own workspace: this test never touches a rehearsal running on the same machine.
const workspace: Workspace = { root: '/srv/dpg-rehearsal-test', prefix: 'dpgt-' };

const plan: NetworkPlan = {
  hosts: [
    { name: 'rt-a-pg1', ip: '10.250.1.10', subnet: '10.250.1.0/24', side: 'a' },
    { name: 'rt-b-pg1', ip: '10.250.2.10', subnet: '10.250.2.0/24', side: 'b' },
  ],
  clients: [{ name: 'a', ip: '10.250.1.254', subnet: '10.250.1.0/24', side: 'a' }],
  subnets: ['10.250.1.0/24', '10.250.2.0/24'],
};

function netnsList(): string {
  return execFileSync('ip', ['netns', 'list']).toString();
}

describe('test hosts', () => {
  const image = cachedImage('debian-12');
  const hosts = new TestHosts(plan, () => undefined, workspace, image && { name: image.name, rootfs: image.rootfs });
  jest.setTimeout(60_000);

  beforeAll(async () => {
    await cleanupLeftovers(() => undefined, workspace);
    await hosts.create();
    await Promise.all(plan.hosts.map((h) => hosts.boot(h.name)));
  });

  afterAll(async () => {
    await hosts.destroy();
  });

  it('gives every host its planned IP, its hostname, and its own file system view (the image\'s)', async () => {
    const r = await hosts.exec('rt-a-pg1', ['sh', '-c', 'hostname; ip -o -4 addr show dev eth0; echo x > /etc/rehearsal-probe; ' +
      `touch ${hosts.secretsDir}/x 2>&1; echo pid1=$(cat /proc/1/comm); grep ' / ' /proc/self/mounts; cat /etc/debian_version`]);
    expect(r.stdout).toContain('rt-a-pg1');
    expect(r.stdout).toContain('inet 10.250.1.10/24');
    expect(r.stdout).toMatch(/Read-only file system/);
    expect(r.stdout).toContain(`overlay / overlay rw,relatime,lowerdir=${image!.rootfs},`);
    expect(r.stdout).toMatch(/^12\./m);
    expect(r.stdout).toContain('pid1=python3');
    expect(existsSync('/etc/rehearsal-probe')).toBe(false);
    const other = await hosts.exec('rt-b-pg1', ['sh', '-c', 'test -e /etc/rehearsal-probe && echo leaked || echo isolated']);
    expect(other.stdout.trim()).toBe('isolated');
  });

  it('cannot set the clock all hosts share, neither from a command nor from a unit', async () => {
    const r = await hosts.exec('rt-a-pg1', ['sh', '-c', 'date -s "2001-01-01" 2>&1; grep CapBnd /proc/1/status'], { allowFail: true });
    expect(r.stdout).toMatch(/Operation not permitted/);
    expect(new Date().getFullYear()).toBeGreaterThan(2001);
    // PID 1 (the stand-in, which starts the units) lacks CAP_SYS_TIME (25) too.
    const bounding = BigInt(`0x${/CapBnd:\s+([0-9a-f]+)/.exec(r.stdout)![1]}`);
    expect((bounding >> 25n) & 1n).toBe(0n);
  });

  it('routes between subnets inside the fleet and nowhere else', async () => {
    const ping = await hosts.exec('rt-a-pg1', ['ping', '-c1', '-W1', '10.250.2.10'], { allowFail: true });
    expect(ping.code).toBe(0);
    const outside = await hosts.exec('rt-a-pg1', ['ping', '-c1', '-W1', '1.1.1.1'], { allowFail: true });
    expect(outside.code).not.toBe(0);
    expect(outside.stderr + outside.stdout).toMatch(/unreachable/i);
    const client = await hosts.clientExec('a', ['ping', '-c1', '-W1', '10.250.2.10'], { allowFail: true });
    expect(client.code).toBe(0);
  });

  it('partitions a side off and heals it', async () => {
    await hosts.partition('b');
    const cut = await hosts.exec('rt-a-pg1', ['ping', '-c1', '-W1', '10.250.2.10'], { allowFail: true });
    expect(cut.code).not.toBe(0);
    await hosts.heal();
    const healed = await hosts.exec('rt-a-pg1', ['ping', '-c1', '-W1', '10.250.2.10'], { allowFail: true });
    expect(healed.code).toBe(0);
  });

  it('cuts one host off from another (both ways, the client still reaches both) and heals it', async () => {
    await hosts.cutHosts('rt-a-pg1', ['rt-b-pg1']);
    for (const [from, to] of [['rt-a-pg1', '10.250.2.10'], ['rt-b-pg1', '10.250.1.10']]) {
      expect((await hosts.exec(from, ['ping', '-c1', '-W1', to], { allowFail: true })).code).not.toBe(0);
    }
    expect((await hosts.clientExec('a', ['ping', '-c1', '-W1', '10.250.2.10'], { allowFail: true })).code).toBe(0);
    await hosts.heal();
    for (const [from, to] of [['rt-a-pg1', '10.250.2.10'], ['rt-b-pg1', '10.250.1.10']]) {
      expect((await hosts.exec(from, ['ping', '-c1', '-W1', to], { allowFail: true })).code).toBe(0);
    }
  });

  it('runs units as their User= with the stand-in systemctl, and a crash ends every process of the host', async () => {
    await hosts.exec('rt-a-pg1', ['sh', '-c', [
      'mkdir -p /etc/systemd/system',
      'printf "[Service]\\nUser=postgres\\nExecStart=/bin/sleep 1000\\n[Install]\\nWantedBy=multi-user.target\\n" > /etc/systemd/system/probe.service',
      'systemctl daemon-reload',
      'systemctl enable --now probe',
      // A unit of the machine image itself (not from user-data, not a database package): a reboot must not start it.
      'printf "[Service]\nExecStart=/bin/sleep 1000\n[Install]\nWantedBy=multi-user.target\n" > /usr/lib/systemd/system/image-probe.service',
      'systemctl enable image-probe',
    ].join(' && ')]);
    const active = await hosts.exec('rt-a-pg1', ['sh', '-c', 'systemctl is-active probe; ps -o user=,args= -p $(systemctl show -p MainPID --value probe)']);
    expect(active.stdout).toMatch(/^active\npostgres +\/bin\/sleep 1000/);
    await hosts.crash('rt-a-pg1');
    expect(execFileSync('ip', ['netns', 'pids', 'dpgt-h-rt-a-pg1']).toString().trim()).toBe('');
    // A dead machine answers nothing (no quick "connection refused").
    expect((await hosts.exec('rt-b-pg1', ['ping', '-c1', '-W1', '10.250.1.10'], { allowFail: true })).code).not.toBe(0);
    // A reboot starts the enabled unit again; files on the host's disks survive, /run does not.
    await hosts.boot('rt-a-pg1', true);
    const again = await hosts.exec('rt-a-pg1', ['sh', '-c', 'sleep 0.5; systemctl is-active probe image-probe; cat /etc/rehearsal-probe'], { allowFail: true });
    expect(again.stdout).toBe('active\ninactive\nx\n');
    // Its network comes back with it (the link went down with the crash).
    expect((await hosts.exec('rt-a-pg1', ['ping', '-c1', '-W1', '10.250.2.10'], { allowFail: true })).code).toBe(0);
  });

  it('leaves nothing behind', async () => {
    await hosts.destroy();
    expect(netnsList()).not.toMatch(/dpgt-/);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(workspace.root);
  });
});
