/**
 * etcd-join against a real 3-member etcd (Debian's etcd-server) with the rendered TLS settings and config, in each
 * case a cloud meets: all members start together, one starts late (after the other two formed the quorum), one is
 * replaced (its data is gone, its entry is not), and the quorum is briefly lost while a replaced member joins.
 * The members listen on 127.0.0.1 ports; everything else (config keys, TLS, client-cert auth, the script) is rendered.
 */
import { ChildProcess, spawn } from 'child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'fs';
import { join } from 'path';
import { parse, stringify } from 'yaml';
import { ETCDCTL } from '../../lib/render/bootstrap';
import { pglogicalFleet } from '../fixtures/fleets';
import { fileOf, run, tempDir, topologyOf, writeTemp, bootCloudConfig } from './helpers';


/** Moves the rendered absolute paths under one member's root. */
function relocate(content: string, root: string): string {
  return content.split('/etc/distributed-postgres').join(`${root}/etc`).split('/var/lib/distributed-postgres').join(`${root}/state`);
}

describe('etcd-join with a real 3-member etcd', () => {
  jest.setTimeout(180_000);
  const text = bootCloudConfig(topologyOf(pglogicalFleet()), 'rehearse-a-pg1');
  const dir = tempDir('etcd-join');
  // Below Linux's ephemeral range (32768-60999: an outgoing connection may hold any port there), and apart from
  // scripts.system.test.ts's etcd (26000-29999).
  const base = 20000 + (process.pid % 1000) * 6;
  const names = ['m1', 'm2', 'm3'];
  const member = (i: number) => ({
    name: names[i],
    root: join(dir, names[i]),
    client: `https://127.0.0.1:${base + i * 2}`,
    peer: `https://127.0.0.1:${base + i * 2 + 1}`,
  });
  const members = names.map((_, i) => member(i));
  const endpoints = members.map((m) => m.client).join(',');
  const processes = new Map<string, ChildProcess>();

  // One CA and one certificate for 127.0.0.1, shared by the three members (as the fleet CA would issue them).
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const ssl = (args: string[]) => expect(run('openssl', args)).toEqual(expect.objectContaining({ code: 0 }));
  ssl(['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=test CA', '-keyout', join(pki, 'ca.key'), '-out', join(pki, 'ca.crt')]);
  ssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=member',
    '-keyout', join(pki, 'member.key'), '-out', join(pki, 'member.csr')]);
  writeTemp(pki, 'ext', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  ssl(['x509', '-req', '-in', join(pki, 'member.csr'), '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', join(pki, 'ext'), '-out', join(pki, 'member.crt')]);

  const rendered = parse(fileOf(text, '/etc/distributed-postgres/etcd.yaml'));
  const joinScript = fileOf(text, '/usr/local/lib/distributed-postgres/etcd-join');
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');

  /** Lays out one member's machine: TLS files, member.env, the rendered config (with local URLs) and the script. */
  function provision(m: ReturnType<typeof member>): void {
    rmSync(m.root, { recursive: true, force: true });
    const tls = join(m.root, 'etc/tls');
    mkdirSync(tls, { recursive: true });
    mkdirSync(join(m.root, 'state'));
    for (const [from, to] of [['ca.crt', 'ca.crt'], ['member.crt', 'member.crt'], ['member.key', 'member.key'], ['member.key', 'etcd.key']]) {
      writeTemp(tls, to, readFileSync(join(pki, from), 'utf8'), 0o600);
    }
    writeTemp(join(m.root, 'etc'), 'member.env', [
      fileOf(text, '/etc/distributed-postgres/member.env'),
      `DPG_ETCD_NAME='${m.name}'`, `DPG_ETCD_PEER_URL='${m.peer}'`, `DPG_ETCD_CLIENT_URL='${m.client}'`,
      `DPG_ETCD_DATA_DIR='${join(m.root, 'data')}'`, `DPG_ETCD_ENDPOINTS='${endpoints}'`, ''].join('\n'));
    const config = {
      ...rendered, name: m.name, 'data-dir': join(m.root, 'data'),
      'listen-peer-urls': m.peer, 'listen-client-urls': m.client, 'initial-advertise-peer-urls': m.peer, 'advertise-client-urls': m.client,
      'initial-cluster': initialCluster,
    };
    writeTemp(join(m.root, 'etc'), 'etcd.yaml', relocate(stringify(config, { version: '1.1' }), m.root));
    writeTemp(m.root, 'etcd-join', relocate(joinScript, m.root), 0o700);
  }

  /** Runs the member's etcd-join as the bootstrap does; resolves with its output (`progress` reads it while it runs). */
  function etcdJoin(m: ReturnType<typeof member>, progress?: { out: string }): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
      const child = spawn('bash', [join(m.root, 'etcd-join')], { env: { ...process.env, DPG_ETCD_JOIN_TIMEOUT: '120' } });
      const seen = progress ?? { out: '' };
      child.stdout.on('data', (d) => { seen.out += d; });
      child.stderr.on('data', (d) => { seen.out += d; });
      child.on('close', (code) => resolve({ code: code ?? 1, out: seen.out }));
    });
  }

  // The state etcd-join wrote into the config; it must also have recorded that it decided (etcd.service waits for that).
  const stateOf = (m: ReturnType<typeof member>) => {
    const state = /^initial-cluster-state: (\S+)$/m.exec(readFileSync(join(m.root, 'etc/etcd.yaml'), 'utf8'))?.[1];
    const marker = join(m.root, 'state/etcd-member');
    return existsSync(marker) && readFileSync(marker, 'utf8').startsWith(`initial-cluster-state ${state} `) ? state : `${state} (not recorded as decided)`;
  };

  function start(m: ReturnType<typeof member>): void {
    const child = spawn('/usr/bin/etcd', ['--config-file', join(m.root, 'etc/etcd.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d) => { log = (log + d).slice(-20000); });
    (child as ChildProcess & { log?: () => string }).log = () => log;
    processes.set(m.name, child);
  }

  async function stop(m: ReturnType<typeof member>): Promise<void> {
    const child = processes.get(m.name);
    if (!child) return;
    processes.delete(m.name);
    if (child.exitCode === null) {
      const closed = new Promise((r) => child.once('close', r));
      child.kill('SIGKILL');
      await closed;
    }
  }

  const ctl = (args: string[]) => run('bash', ['-c', `${relocate(ETCDCTL, members[0].root)} --endpoints=${endpoints} ${args.join(' ')}`]);

  const healthyCount = () => ((r) => r.stdout + r.stderr)(ctl(['endpoint', 'health'])).match(/is healthy/g)?.length ?? 0;
  const memberRows = () => ctl(['member', 'list']).stdout.trim().split('\n').filter(Boolean).map((l) => l.split(', '));

  async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) {
        const logs = [...processes].map(([n, p]) => `${n}: ${(p as ChildProcess & { log: () => string }).log().slice(-1500)}`).join('\n');
        throw new Error(`${what}: not after ${timeoutMs} ms: ${ctl(['member', 'list']).stdout}\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** Waits for `size` healthy members that all have started; returns name -> client URLs. */
  async function healthyQuorum(size: number): Promise<Map<string, string>> {
    await until(`a healthy ${size}-member quorum`, () => healthyCount() === size && memberRows().filter((r) => r[2] && r[4]).length === size);
    return new Map(memberRows().map((r) => [r[2], r[4]]));
  }

  afterAll(async () => {
    for (const m of members) await stop(m);
  });

  test('all members start together: each forms the quorum with the others (new)', async () => {
    members.forEach(provision);
    const joins = await Promise.all(members.map((m) => etcdJoin(m)));
    for (const j of joins) expect(j).toEqual({ code: 0, out: expect.stringMatching(/no peer has joined a quorum yet.*\(initial-cluster-state new\)/) });
    members.forEach(start);
    const list = await healthyQuorum(3);
    expect([...list.keys()].sort()).toEqual(names);
  });

  test('one member starts late, after the others formed the quorum: it joins as the static member it is (new), removing nothing', async () => {
    for (const m of members) await stop(m);
    members.forEach(provision);
    for (const j of await Promise.all(members.slice(0, 2).map((m) => etcdJoin(m)))) expect(j.code).toBe(0);
    members.slice(0, 2).forEach(start);
    await healthyQuorum(2); // two of three: a quorum, with m3 listed but never started
    const before = ctl(['member', 'list']).stdout;
    expect(before).toMatch(/, m3, https:\/\/127\.0\.0\.1:\d+, , false/); // the late member: a name, no client URLs
    const late = await etcdJoin(members[2]);
    expect(late).toEqual({ code: 0, out: expect.stringMatching(/knows m3 as a member of the initial cluster that never started: joining late \(initial-cluster-state new\)/) });
    expect(late.out).not.toMatch(/remov/);
    start(members[2]);
    const list = await healthyQuorum(3);
    expect(list.get('m3')).toBe(members[2].client);
    const id = (l: string) => /^([0-9a-f]+), \w+, m3,/m.exec(l)?.[1];
    expect(id(ctl(['member', 'list']).stdout)).toBe(id(before));
  });

  test('a replaced member (entry ran before, data gone): removed, added again, joins existing', async () => {
    const [, , m3] = members;
    const before = ctl(['member', 'list']).stdout;
    await stop(m3);
    provision(m3); // a new machine: same user-data, empty disk
    const replaced = await etcdJoin(m3);
    expect(replaced.code).toBe(0);
    expect(replaced.out).toMatch(/knows m3 \([0-9a-f]+\), which ran before, with data this machine does not have \(a replaced machine\): removing it/);
    expect(replaced.out).toMatch(/Member +[0-9a-f]+ removed from cluster/);
    expect(replaced.out).toMatch(/Member +[0-9a-f]+ added to cluster/);
    expect(replaced.out).toMatch(/joining the running quorum as a new member \(initial-cluster-state existing\)/);
    expect(stateOf(m3)).toBe('existing');
    start(m3);
    const list = await healthyQuorum(3);
    expect(list.get('m3')).toBe(m3.client);
    const id = (l: string) => /^([0-9a-f]+), \w+, m3,/m.exec(l)?.[1];
    expect(id(ctl(['member', 'list']).stdout)).not.toBe(id(before));
  });

  test('the quorum is briefly lost while a replaced member joins: it retries until the quorum is back', async () => {
    const [, m2, m3] = members;
    await stop(m3);
    provision(m3);
    await stop(m2);
    // Only m1 runs: it still answers member list, but no membership change can pass until m2 is back.
    const progress = { out: '' };
    const joining = etcdJoin(m3, progress);
    await until('etcd-join to retry a refused membership change', () => /retrying in \d+ s/.test(progress.out), 90_000);
    start(m2);
    const replaced = await joining;
    expect(replaced.code).toBe(0);
    expect(replaced.out).toMatch(/knows m3 \([0-9a-f]+\), which ran before/);
    expect(replaced.out).toMatch(/member (remove [0-9a-f]+|add m3): .*; retrying in \d+ s/);
    expect(replaced.out).toMatch(/Member +[0-9a-f]+ added to cluster/);
    expect(replaced.out).toMatch(/\(initial-cluster-state existing\)/);
    start(m3);
    const list = await healthyQuorum(3);
    expect([...list.keys()].sort()).toEqual(names);
  });

  test('a member with data of its own is left alone (a reboot, or the bootstrap running again)', async () => {
    const again = await etcdJoin(members[0]);
    expect(again).toEqual({ code: 0, out: expect.stringMatching(/etcd data present in .*: already a member/) });
  });
});
