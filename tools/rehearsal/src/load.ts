/**
 * Writer load and leader watch: one client process (client/load.py) per node group, in the group's client namespace,
 * writing through the group's leader DSN at a bounded rate for a bounded time, and watching Patroni's `/primary`.
 */
import { ChildProcess, spawn } from 'child_process';
import { createInterface } from 'readline';
import { assetPath } from './assets';
import { HOST_ENV } from './shell';

export interface ClientEvent {
  readonly ev: 'ack' | 'doubt' | 'error' | 'leader' | 'done';
  readonly t: number;
  readonly seq?: number;
  readonly msg?: string;
  readonly member?: string | null;
  readonly leaders?: string[];
}

export interface WriterSpec {
  /** Client (node group) name; also the namespace the writer runs in. */
  readonly group: string;
  /** Unique per drill and group: rows are (writer, seq). */
  readonly writer: string;
  /** argv prefix that enters the client's namespace. */
  readonly enter: string[];
  readonly dsn: string;
  readonly password: string;
  readonly table: string;
  readonly rate: number;
  readonly durationS: number;
  readonly maxRows: number;
  /** Patroni REST addresses to watch (empty: no watch). */
  readonly members: string[];
  readonly restPort: number;
  readonly restTls: boolean;
  readonly caFile?: string;
  /** Only watch the leader, write nothing. */
  readonly watchOnly?: boolean;
}

/** What one writer saw. */
export class WriterRun {
  readonly acked: number[] = [];
  readonly doubts: number[] = [];
  readonly errors: { seq: number; t: number; msg: string }[] = [];
  readonly ackTimes: number[] = [];
  readonly leaders: { t: number; member: string | null }[] = [];
  /** Moments when more than one member of the group answered 200 on /primary. */
  readonly splitBrains: { t: number; leaders: string[] }[] = [];
  readonly startedAt = Date.now() / 1000;
  private readonly child: ChildProcess;
  private readonly finished: Promise<void>;
  private stderr = '';

  constructor(readonly spec: WriterSpec) {
    const args = [
      '/usr/bin/python3', assetPath('client/load.py'),
      '--dsn', spec.dsn, '--writer', spec.writer, '--group', spec.group, '--table', spec.table,
      '--rate', String(spec.rate), '--duration', String(spec.durationS), '--max-rows', String(spec.maxRows),
      '--rest-port', String(spec.restPort), ...(spec.restTls ? ['--rest-tls'] : []),
      ...(spec.caFile ? ['--cafile', spec.caFile] : []),
      ...(spec.watchOnly ? ['--watch-only'] : []),
      '--members', ...spec.members,
    ];
    const argv = [...spec.enter, ...args];
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...HOST_ENV, PGPASSWORD: spec.password } });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => this.onEvent(line));
    this.finished = new Promise((resolve) => this.child.on('close', () => resolve()));
  }

  private onEvent(line: string): void {
    let e: ClientEvent;
    try {
      e = JSON.parse(line) as ClientEvent;
    } catch {
      return;
    }
    if (e.ev === 'ack' && e.seq !== undefined) {
      this.acked.push(e.seq);
      this.ackTimes.push(e.t);
    } else if (e.ev === 'doubt' && e.seq !== undefined) {
      this.doubts.push(e.seq);
    } else if (e.ev === 'error' && e.seq !== undefined) {
      this.errors.push({ seq: e.seq, t: e.t, msg: e.msg ?? '' });
    } else if (e.ev === 'leader') {
      this.leaders.push({ t: e.t, member: e.member ?? null });
      if ((e.leaders ?? []).length > 1) this.splitBrains.push({ t: e.t, leaders: e.leaders! });
    }
  }

  /** The leader the watch saw last. */
  get leader(): string | null | undefined {
    return this.leaders.length ? this.leaders[this.leaders.length - 1].member : undefined;
  }

  /** Asks the client to finish (SIGINT) and waits for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.finished;
    clearTimeout(timer);
  }

  /** Waits until the client ends by itself (its duration/row bound). */
  async done(): Promise<void> {
    await this.finished;
  }

  get diagnostics(): string {
    return this.stderr.trim();
  }

  /** Longest time without an acknowledged write, between `from` and `to` (epoch seconds). */
  writeGap(from: number, to: number): number {
    const inside = this.ackTimes.filter((t) => t >= from && t <= to);
    const points = [from, ...inside, to];
    let gap = 0;
    for (let i = 1; i < points.length; i++) gap = Math.max(gap, points[i] - points[i - 1]);
    return gap;
  }

  /** First ack at or after `t` (epoch seconds). */
  firstAckAfter(t: number): number | undefined {
    return this.ackTimes.find((x) => x >= t);
  }

  /** First time after `t` the watch saw a leader other than `previous` (any leader when previous is undefined). */
  leaderAfter(t: number, previous?: string | null): { t: number; member: string } | undefined {
    const found = this.leaders.find((l) => l.t >= t && l.member !== null && l.member !== previous);
    return found ? { t: found.t, member: found.member! } : undefined;
  }
}
