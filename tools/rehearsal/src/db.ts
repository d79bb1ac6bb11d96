/**
 * SQL and Patroni REST calls the rehearsal makes, always from a node group's client namespace over the fleet network
 * (TLS verified against the fleet CA, SCRAM as the superuser): the path an application or operator would take.
 */
import { FleetGroup, RehearsalFleet } from './fleet';
import { TestHosts } from './hosts';
import { RehearsalSecrets } from './secrets';
import { HOST_ENV, run, RunResult } from './shell';

export interface QueryOptions {
  /** Ask this member only (any role); default: the group's leader (target_session_attrs=read-write). */
  readonly member?: string;
  readonly timeoutMs?: number;
}

export class FleetAccess {
  constructor(
    private readonly hosts: TestHosts,
    readonly fleet: RehearsalFleet,
    private readonly secrets: RehearsalSecrets,
  ) {}

  group(name: string): FleetGroup {
    const g = this.fleet.groups.find((x) => x.name === name);
    if (!g) throw new Error(`no node group ${name}`);
    return g;
  }

  memberIps(group: string): string[] {
    return this.group(group).members.map((m) => m.machine.privateIp);
  }

  get superuserPassword(): string {
    return this.secrets.values[this.fleet.superuserSecret];
  }

  get caFile(): string {
    return this.secrets.caCertFile;
  }

  /** libpq DSN (no password) to the group's leader or one member. */
  dsn(group: string, member?: string): string {
    const hosts = member ? [member] : this.memberIps(group);
    return [
      `host=${hosts.join(',')}`, 'port=5432', `dbname=${this.fleet.database}`, `user=${this.fleet.superuser}`,
      `target_session_attrs=${member ? 'any' : 'read-write'}`, 'sslmode=verify-full', `sslrootcert=${this.caFile}`,
      'connect_timeout=3', 'keepalives=1', 'keepalives_idle=5', 'keepalives_interval=2', 'keepalives_count=3',
      'tcp_user_timeout=10000',
    ].join(' ');
  }

  /** Runs SQL; rows as arrays of column texts. Throws on any error. */
  async query(group: string, sql: string, options: QueryOptions = {}): Promise<string[][]> {
    const r = await this.psql(group, sql, options, false);
    return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  }

  async psql(group: string, sql: string, options: QueryOptions = {}, allowFail = true): Promise<RunResult> {
    return this.hosts.clientExec(group, [
      'psql', this.dsn(group, options.member), '-X', '-A', '-t', '-q', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql,
    ], { env: { ...HOST_ENV, PGPASSWORD: this.superuserPassword }, timeoutMs: options.timeoutMs ?? 20_000, allowFail });
  }

  /** GET/PATCH on a member's Patroni REST API; returns [status, body]. */
  async rest(group: string, member: string, path: string, method = 'GET', body?: unknown): Promise<[number, string]> {
    const scheme = this.fleet.restTls ? 'https' : 'http';
    const args = ['-sS', '-m', '3', '-o', '-', '-w', '\n%{http_code}', '-X', method];
    if (this.fleet.restTls) args.push('--cacert', this.caFile);
    if (method !== 'GET' && this.fleet.restUser && this.fleet.restSecret) {
      args.push('-K', '-');
    }
    if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
    args.push(`${scheme}://${member}:${this.fleet.restPort}${path}`);
    const auth = method !== 'GET' && this.fleet.restUser && this.fleet.restSecret
      ? `user = "${this.fleet.restUser}:${this.secrets.values[this.fleet.restSecret]}"\n` : '';
    const r = await this.hosts.clientExec(group, ['curl', ...args], { allowFail: true, timeoutMs: 10_000, input: auth });
    const lines = r.stdout.split('\n');
    const status = Number(lines.pop());
    return [Number.isFinite(status) ? status : 0, lines.join('\n')];
  }

  /**
   * The group's side of the mesh as an operator checks it before the application creates its schema: the node
   * exists and `peers` of its subscriptions replicate (default: one per other group; fewer while a group is held back).
   */
  async meshReady(group: string, peers = this.fleet.groups.length - 1): Promise<boolean> {
    const sql: Record<RehearsalFleet['engine'], string> = {
      pglogical: 'SELECT (SELECT count(*) FROM pglogical.local_node) = 1 AND (SELECT count(*) FROM pglogical.show_subscription_status() ' +
        `WHERE status = 'replicating') = ${peers}`,
      spock: 'SELECT (SELECT count(*) FROM spock.local_node) = 1 AND (SELECT count(*) FROM spock.sub_show_status() ' +
        `WHERE status = 'replicating') = ${peers}`,
      native: `SELECT (SELECT count(*) FROM pg_stat_subscription WHERE pid IS NOT NULL AND relid IS NULL) = ${peers}`,
    };
    const r = await this.psql(group, sql[this.fleet.engine], { timeoutMs: 8000 });
    return r.code === 0 && r.stdout.trim() === 't';
  }

  /** The member answering 200 on /primary, if exactly one does. */
  async leaderOf(group: string): Promise<string | undefined> {
    const answers = await Promise.all(this.memberIps(group).map(async (ip) => [ip, (await this.rest(group, ip, '/primary'))[0]] as const));
    const leaders = answers.filter(([, status]) => status === 200).map(([ip]) => ip);
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /** Patroni's view of the group (GET /cluster on any member that answers). */
  async cluster(group: string): Promise<ClusterView | undefined> {
    for (const ip of this.memberIps(group)) {
      const [status, body] = await this.rest(group, ip, '/cluster');
      if (status === 200) {
        try {
          return JSON.parse(body) as ClusterView;
        } catch {
          continue;
        }
      }
    }
    return undefined;
  }
}

export interface ClusterView {
  readonly members: { name: string; role: string; state: string; host: string; timeline?: number; lag?: number | string }[];
}

/** Quoting for SQL text literals the rehearsal builds. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export async function curlAvailable(): Promise<boolean> {
  return (await run('curl', ['--version'], { allowFail: true })).code === 0;
}
