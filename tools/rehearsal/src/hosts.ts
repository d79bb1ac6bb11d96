/**
 * Local test hosts: one Linux network namespace per machine carrying its planned private IP, all joined by veth pairs
 * to a bridge that lives in a namespace of its own (nothing is added to the root namespace, and no namespace has a
 * route anywhere but the fleet's subnets, so traffic never leaves them). Each host boots from an image (src/images.ts),
 * as a cloud machine boots from an AMI: its root is an overlay whose lower layer is the image's root filesystem and
 * whose upper layer (the machine's root disk) lives on a tmpfs under the rehearsal dir; a fresh /proc, /sys, /run,
 * /tmp and /dev/shm per boot, the machine's /dev, the data disk bind-mounted on /var/lib/postgresql, the secrets and
 * the user-data read-only where the rehearsal's paths say; then it chroots into that root and runs the systemd
 * stand-in (assets/standin/systemd.py) with the image's own python3 as PID 1 of its own mount, UTS, IPC and PID
 * namespaces. Killing PID 1 is a machine crash.
 */
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { spawn } from 'child_process';
import * as path from 'path';
import { assetPath } from './assets';
import { formatCidr, parseCidr } from './ipv4';
import { HOST_ENV, ip, killQuietly, nsPids, run, RunOptions, RunResult, waitFor } from './shell';
import { claimLock, cleanupLeftovers, DEFAULT_WORKSPACE, linkPrefix, Workspace } from './workspace';

/** Where the stand-in and its boot configuration are staged inside a host (in its root disk's upper layer). */
const STANDIN_DIR = '/usr/local/lib/dpg-rehearsal';

/** The root filesystem hosts boot from (an image's rootfs/, used read-only as the overlays' lower layer). */
export interface HostImage {
  readonly name: string;
  readonly rootfs: string;
}
/**
 * Capabilities no process of a test host keeps: the clock, kernel modules and reboot belong to the real machine
 * (every host shares its kernel). Namespaces isolate files and network; this keeps a script from touching the rest.
 */
const CAPABILITIES_DROPPED = '-sys_time,-sys_module,-sys_boot,-wake_alarm';
/** Units a rebooted host starts from the machine's own packages (besides every unit the user-data wrote). */
const PACKAGE_UNITS = '^(etcd|etcd2|patroni|patroni@.*|postgresql|postgresql@.*)\\.service$';

export interface HostPlan {
  /** Machine name (also its hostname). */
  readonly name: string;
  readonly ip: string;
  /** The subnet the IP lives in (`a.b.c.d/p`). */
  readonly subnet: string;
  /** Partition side: machines with the same side label are cut off together. */
  readonly side: string;
  /** The image this host boots instead of the rehearsal's (a stand-in host for a cloud service). */
  readonly image?: HostImage;
  /** More addresses of its eth0 (`a.b.c.d/p`), e.g. the instance metadata service's 169.254.169.254/32. */
  readonly extraAddresses?: string[];
}

export interface ClientPlan {
  /** Name of the client (one per node group). */
  readonly name: string;
  readonly ip: string;
  readonly subnet: string;
  readonly side: string;
}

export interface NetworkPlan {
  readonly hosts: HostPlan[];
  readonly clients: ClientPlan[];
  /** Every subnet of the fleet: all of them reach each other. */
  readonly subnets: string[];
  /**
   * The instance metadata service's address (169.254.169.254), which a stand-in host carries: every other host routes
   * it on-link over its eth0, as an EC2 instance reaches it.
   */
  readonly imds?: string;
}

interface Endpoint {
  readonly ns: string;
  readonly ip: string;
  readonly subnet: string;
  readonly side: string;
}

export function hostNs(name: string, w: Workspace = DEFAULT_WORKSPACE): string {
  return `${w.prefix}h-${name}`;
}

export function clientNs(name: string, w: Workspace = DEFAULT_WORKSPACE): string {
  return `${w.prefix}c-${name}`;
}

interface BootedHost {
  /** PID (root namespace) of the `unshare` process holding the host's namespaces. */
  readonly holderPid: number;
  /** PID (root namespace) of the stand-in init, PID 1 inside the host. */
  readonly initPid: number;
}

export class TestHosts {
  readonly hostsDir: string;
  readonly secretsDir: string;
  /** Files the hosts may read (user-data), read-only to them. */
  readonly sharedDir: string;
  private readonly switchNs: string;
  private readonly booted = new Map<string, BootedHost>();
  private readonly cut = new Set<string>();
  /** Blackhole routes cutHosts() added: [namespace, destination]. */
  private readonly hostCuts: [string, string][] = [];
  /**
   * Called before each boot of a host with its root disk (the overlay's upper dir) and the image's rootfs: files
   * written there are what the machine finds at boot (the stand-ins' /etc/hosts entries and CA, see object-store.ts).
   */
  prepareRoot?: (name: string, upper: string, rootfs: string) => void;
  /**
   * Size of each host's data disk in MB: a tmpfs of that size (a file system of its own, as a cloud volume is), so
   * what the machine computes from its disk (max_slot_wal_keep_size, pgBackRest's archive queue) follows it. Unset: a
   * directory of the rehearsal's tmpfs (which the hosts share).
   */
  dataDiskMb?: number;

  constructor(
    readonly plan: NetworkPlan,
    private readonly log: (line: string) => void = () => undefined,
    readonly workspace: Workspace = DEFAULT_WORKSPACE,
    readonly image?: HostImage,
  ) {
    this.hostsDir = path.join(workspace.root, 'hosts');
    this.secretsDir = path.join(workspace.root, 'secrets');
    this.sharedDir = path.join(workspace.root, 'shared');
    this.switchNs = `${workspace.prefix}switch`;
  }

  hostNs(name: string): string {
    return hostNs(name, this.workspace);
  }

  clientNs(name: string): string {
    return clientNs(name, this.workspace);
  }

  private endpoints(): Endpoint[] {
    return [
      ...this.plan.hosts.map((h) => ({ ns: this.hostNs(h.name), ip: h.ip, subnet: h.subnet, side: h.side })),
      ...this.plan.clients.map((c) => ({ ns: this.clientNs(c.name), ip: c.ip, subnet: c.subnet, side: c.side })),
    ];
  }

  host(name: string): HostPlan {
    const h = this.plan.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host named ${name}`);
    return h;
  }

  /** Claims the rehearsal directory (one rehearsal at a time), mounts its tmpfs and builds the network. */
  async create(): Promise<void> {
    claimLock(this.workspace);
    mkdirSync(this.sharedDir, { recursive: true });
    for (const dir of [this.hostsDir, this.secretsDir]) {
      mkdirSync(dir, { recursive: true });
      await run('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'dpg-rehearsal', dir]);
    }
    await ip(['netns', 'add', this.switchNs]);
    await ip(['-n', this.switchNs, 'link', 'set', 'lo', 'up']);
    await ip(['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    const endpoints = this.endpoints();
    for (const [i, e] of endpoints.entries()) {
      const outer = `${linkPrefix(this.workspace)}${i}a`;
      const inner = `${linkPrefix(this.workspace)}${i}b`;
      await ip(['netns', 'add', e.ns]);
      await ip(['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      await ip(['link', 'set', outer, 'netns', e.ns]);
      await ip(['link', 'set', inner, 'netns', this.switchNs]);
      await ip(['-n', e.ns, 'link', 'set', outer, 'name', 'eth0']);
      await ip(['-n', this.switchNs, 'link', 'set', inner, 'master', 'br0']);
      await ip(['-n', this.switchNs, 'link', 'set', inner, 'up']);
      await ip(['-n', e.ns, 'link', 'set', 'lo', 'up']);
      const subnet = parseCidr(e.subnet);
      await ip(['-n', e.ns, 'addr', 'add', `${e.ip}/${subnet.prefix}`, 'dev', 'eth0']);
      for (const extra of this.plan.hosts.find((h) => this.hostNs(h.name) === e.ns)?.extraAddresses ?? []) {
        await ip(['-n', e.ns, 'addr', 'add', extra, 'dev', 'eth0']);
      }
      await ip(['-n', e.ns, 'link', 'set', 'eth0', 'up']);
      await this.route(e);
    }
    this.log(`network: ${this.plan.hosts.length} hosts, ${this.plan.clients.length} clients, bridge in ${this.switchNs}`);
  }

  /** Routes from an endpoint to every other subnet of the fleet (on-link: all share the bridge). */
  private async route(e: Endpoint): Promise<void> {
    for (const other of this.plan.subnets) {
      if (formatCidr(parseCidr(other)) === formatCidr(parseCidr(e.subnet))) continue;
      await ip(['-n', e.ns, 'route', 'replace', other, 'dev', 'eth0']);
    }
    const host = this.plan.hosts.find((h) => this.hostNs(h.name) === e.ns);
    if (this.plan.imds && host && !(host.extraAddresses ?? []).includes(`${this.plan.imds}/32`)) {
      await ip(['-n', e.ns, 'route', 'replace', `${this.plan.imds}/32`, 'dev', 'eth0']);
    }
  }

  private hostDir(name: string): string {
    return path.join(this.hostsDir, name);
  }

  /** Directory of the host's data disk (bind-mounted on /var/lib/postgresql). */
  diskDir(name: string): string {
    return path.join(this.hostDir(name), 'disk');
  }

  /** Where the host's /var/log lands (its root overlay's upper dir). */
  varLogDir(name: string): string {
    return path.join(this.hostDir(name), 'upper', 'var', 'log');
  }

  /** uid and gid of `user` in the image (its /etc/passwd: the test machine's may differ). */
  private imageUser(image: HostImage, user: string): [number, number] {
    const line = readFileSync(path.join(image.rootfs, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
    if (!line) throw new Error(`image ${image.name} has no user ${user}`);
    const f = line.split(':');
    return [Number(f[2]), Number(f[3])];
  }

  /**
   * Powers a host on from its image: a prelude (the test machine's sh and mount, PID 1 of the new namespaces) mounts
   * the host's root (overlay: the image's rootfs under the host's root disk, which survives a crash) and its fresh
   * /proc, /sys, /run, /tmp, /dev/shm, binds /dev, the data disk, the secrets and the user-data, then execs
   * `chroot ROOT /usr/bin/python3 systemd.py boot` (the image's python3), which serves systemctl as PID 1. On a first
   * boot nothing is started (the image's packages were installed with service starts denied); on a reboot the enabled
   * units start, as on a cloud machine.
   */
  async boot(name: string, reboot = false): Promise<void> {
    if (this.booted.has(name)) throw new Error(`host ${name} is already running`);
    const image = this.plan.hosts.find((h) => h.name === name)?.image ?? this.image;
    if (!image) throw new Error('test hosts need an image to boot from (TestHosts image)');
    const rootfs = image.rootfs;
    if (!existsSync(path.join(rootfs, 'usr/bin/python3'))) throw new Error(`image ${image.name} (${rootfs}) has no /usr/bin/python3`);
    const dir = this.hostDir(name);
    const upper = path.join(dir, 'upper');
    const root = path.join(dir, 'root');
    for (const d of [upper, path.join(dir, 'work'), root]) mkdirSync(d, { recursive: true });
    // Mount points the image may lack, and the stand-in with its configuration, put straight into the root disk. The
    // secrets and the user-data appear at the same paths as on the test machine (the secret backend and the
    // cloud-init command lines name those).
    for (const d of [this.secretsDir, this.sharedDir, '/var/lib/postgresql', STANDIN_DIR].map((x) => x.slice(1))) {
      mkdirSync(path.join(upper, d), { recursive: true });
    }
    const standin = path.join(upper, STANDIN_DIR.slice(1), 'systemd.py');
    copyFileSync(assetPath('standin/systemd.py'), standin);
    chmodSync(standin, 0o755);
    this.prepareRoot?.(name, upper, rootfs);
    const disk = this.diskDir(name);
    if (!existsSync(disk)) {
      // The data volume as the renderer's mount-data-disk leaves a fresh one: ext4 (lost+found), the image's
      // /var/lib/postgresql copied onto it, owned by postgres (the image's uid).
      if (this.dataDiskMb !== undefined) {
        mkdirSync(disk, { recursive: true });
        await run('mount', ['-t', 'tmpfs', '-o', `size=${this.dataDiskMb}m,mode=0755`, 'dpg-data-disk', disk]);
      }
      mkdirSync(path.join(disk, 'lost+found'), { recursive: true, mode: 0o700 });
      if (existsSync(path.join(rootfs, 'var/lib/postgresql'))) await run('cp', ['-a', `${rootfs}/var/lib/postgresql/.`, `${disk}/`]);
      if (readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8').split('\n').some((l) => l.startsWith('postgres:'))) {
        await run('chown', [this.imageUser(image, 'postgres').join(':'), disk]);
      }
    }
    const bindRo = (source: string, target: string) => `mount --bind '${source}' "$R${target}" && mount -o remount,bind,ro "$R${target}"`;
    // Run by the test machine's sh and mount inside the host's new namespaces (it is PID 1 there until it execs
    // chroot, which execs the image's python3: the stand-in stays PID 1).
    const prelude = [
      'set -e',
      `R='${root}'`,
      `mount -t overlay overlay -o 'lowerdir=${rootfs},upperdir=${upper},workdir=${path.join(dir, 'work')}' "$R"`,
      'mount -t proc -o nosuid,nodev,noexec proc "$R/proc"',
      'mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"',
      'mount --rbind /dev "$R/dev"',
      'mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"',
      'mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$R/run"',
      'mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp"',
      `mount --bind '${disk}' "$R/var/lib/postgresql"`,
      bindRo(this.secretsDir, this.secretsDir),
      bindRo(this.sharedDir, this.sharedDir),
      `exec chroot "$R" /usr/bin/python3 ${STANDIN_DIR}/systemd.py boot ${STANDIN_DIR}/boot.json`,
    ].join('\n');
    // Bringing the link up again (after a crash) restores the connected route only.
    await ip(['-n', this.hostNs(name), 'link', 'set', 'eth0', 'up']);
    await this.route(this.endpoints().find((e) => e.ns === this.hostNs(name))!);
    writeFileSync(path.join(upper, STANDIN_DIR.slice(1), 'boot.json'),
      JSON.stringify({ hostname: name, mounts: [], startEnabled: reboot, bootUnits: PACKAGE_UNITS, image: image.name }, null, 2));
    const initLog = path.join(dir, 'init.log');
    writeFileSync(initLog, '');
    const fd = openSync(initLog, 'a');
    const holder = spawn('ip', [
      'netns', 'exec', this.hostNs(name),
      'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child', '--propagation', 'private',
      'setpriv', '--bounding-set', CAPABILITIES_DROPPED, '--', '/bin/sh', '-c', prelude,
    ], { detached: true, stdio: ['ignore', fd, fd], env: HOST_ENV });
    closeSync(fd);
    holder.unref();
    const holderPid = holder.pid!;
    await waitFor(`${name} to boot (see ${initLog})`, 30_000, async () => {
      if (!existsSync(`/proc/${holderPid}`)) throw new Error(readFileSync(initLog, 'utf8').slice(-2000));
      return readFileSync(initLog, 'utf8').includes('standin: ready') ? true : undefined;
    }, 50);
    const initPid = Number(readFileSync(`/proc/${holderPid}/task/${holderPid}/children`, 'utf8').trim().split(/\s+/)[0]);
    if (!initPid) throw new Error(`cannot find PID 1 of host ${name}`);
    this.booted.set(name, { holderPid, initPid });
  }

  isUp(name: string): boolean {
    return this.booted.has(name);
  }

  /** Runs a command inside a host as root, with a clean environment (like a root shell on the machine). */
  exec(name: string, argv: string[], options: RunOptions = {}): Promise<RunResult> {
    const booted = this.booted.get(name);
    if (!booted) throw new Error(`host ${name} is not running`);
    const env = Object.entries(options.env ?? HOST_ENV).map(([k, v]) => `${k}=${v}`);
    // The test machine's setpriv and nsenter; then the host's root (the image's chroot) and its working directory.
    return run('setpriv', [
      '--bounding-set', CAPABILITIES_DROPPED, '--',
      'nsenter', `--target=${booted.initPid}`, '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd',
      '--', '/usr/bin/env', '-i', ...env, ...argv,
    ], { ...options, env: HOST_ENV });
  }

  /** Runs a command in a client's namespace (root mount namespace: it sees the rehearsal's files, nothing of the hosts). */
  clientExec(name: string, argv: string[], options: RunOptions = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.clientNs(name), ...argv], { env: HOST_ENV, ...options });
  }

  /** argv that runs a long-lived command in a client's namespace (for spawn). */
  clientCommand(name: string, argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.clientNs(name), ...argv];
  }

  /**
   * Machine crash: SIGKILL to PID 1 ends every process of the host at once, and its network interface goes down
   * (a dead machine answers nothing; without this its kernel would still refuse connections at once). The disks stay.
   */
  async crash(name: string): Promise<void> {
    const booted = this.booted.get(name);
    if (!booted) return;
    await ip(['-n', this.hostNs(name), 'link', 'set', 'eth0', 'down'], { allowFail: true });
    killQuietly(booted.initPid, 'SIGKILL');
    killQuietly(booted.holderPid, 'SIGKILL');
    await waitFor(`${name} to stop`, 20_000, async () => ((await nsPids(this.hostNs(name))).length === 0 ? true : undefined), 100);
    this.booted.delete(name);
  }

  /**
   * `terraform apply -replace`: the machine crashes and its root and data disks are gone. The next boot(name) is a new
   * machine with the same address and an empty disk (its user-data must then be applied again).
   */
  async destroyMachine(name: string): Promise<void> {
    await this.crash(name);
    if (this.dataDiskMb !== undefined) await run('umount', [this.diskDir(name)], { allowFail: true });
    rmSync(this.hostDir(name), { recursive: true, force: true });
  }

  /** Cuts the machines and clients of `side` off from everyone else (blackhole routes on both sides). */
  async partition(side: string): Promise<void> {
    const endpoints = this.endpoints();
    const inside = endpoints.filter((e) => e.side === side);
    const outside = endpoints.filter((e) => e.side !== side);
    const insideSubnets = unique(inside.map((e) => e.subnet));
    const outsideSubnets = unique(outside.map((e) => e.subnet));
    for (const e of inside) for (const s of outsideSubnets) await ip(['-n', e.ns, 'route', 'replace', 'blackhole', s]);
    for (const e of outside) for (const s of insideSubnets) await ip(['-n', e.ns, 'route', 'replace', 'blackhole', s]);
    this.cut.add(side);
  }

  /**
   * Cuts one host off from some others (by machine name), both directions: a blackhole route to each other's address
   * (/32) in the host's namespace, and one to the host's address in each other's namespace. Everyone else (clients,
   * other hosts) still reaches both sides. heal() removes these routes.
   */
  async cutHosts(name: string, others: string[]): Promise<void> {
    const from = this.host(name);
    for (const o of others.map((x) => this.host(x))) {
      for (const [ns, dst] of [[this.hostNs(from.name), `${o.ip}/32`], [this.hostNs(o.name), `${from.ip}/32`]] as [string, string][]) {
        await ip(['-n', ns, 'route', 'replace', 'blackhole', dst]);
        this.hostCuts.push([ns, dst]);
      }
    }
  }

  /** Restores every route a partition replaced and removes the blackholes of cutHosts() (also of a crashed host). */
  async heal(): Promise<void> {
    // A crashed host's link is down (no route can name it): its boot() restores its routes.
    const down = new Set(this.plan.hosts.filter((h) => !this.booted.has(h.name)).map((h) => this.hostNs(h.name)));
    for (const e of this.endpoints().filter((x) => !down.has(x.ns))) await this.route(e);
    for (const [ns, dst] of this.hostCuts.splice(0)) await ip(['-n', ns, 'route', 'del', 'blackhole', dst], { allowFail: true });
    this.cut.clear();
  }

  /** Stops every host and client and removes everything create() made. Safe to call more than once. */
  async destroy(): Promise<void> {
    for (const [name] of this.booted) await this.crash(name).catch(() => undefined);
    await cleanupLeftovers(this.log, this.workspace);
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values.map((v) => formatCidr(parseCidr(v))))];
}
