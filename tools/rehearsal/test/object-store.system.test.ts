/**
 * The object store stand-in for real: a stand-in host (image s3-standin: moto's S3 over TLS, the IMDSv2 stand-in) and
 * a host of the debian-12 image that trusts it through its system CA store and resolves its names through /etc/hosts.
 * On that host a real PostgreSQL archives through pgBackRest with a configuration written to issue 14's contract
 * (repo1-type=s3, the regional endpoint, virtual-host URLs, key type auto: the role's credentials from IMDSv2, TLS
 * verified), a full backup is taken, rows are written around a target time and the backup is restored to it.
 * Needs root and both images; about a minute; its own workspace.
 */
import { targetTimeText } from '../src/drills/backup-restore';
import { NetworkPlan, TestHosts } from '../src/hosts';
import { cachedImage } from '../src/images';
import {
  certificateNames, IMDS_IP, makeObjectStoreCertificates, ObjectStorePlan, prepareRootForObjectStore, s3Hostnames, startObjectStore,
} from '../src/object-store';
import { cleanupLeftovers, Workspace } from '../src/workspace';

for (const name of ['debian-12', 's3-standin']) {
  if (!cachedImage(name)) throw new Error(`this test needs the ${name} image: node tools/rehearsal/dist/cli.js image build ${name} (.ci/run builds it)`);
}

const workspace: Workspace = { root: '/srv/dpg-rehearsal-s3test', prefix: 'dpgs-' };
const fleetImage = cachedImage('debian-12')!;
const s3Image = cachedImage('s3-standin')!;
const buckets = [{ name: 'st-backup-us-east-1', region: 'us-east-1', versioning: true, from: 'naming' as const }];
const store: ObjectStorePlan = {
  name: 'st-s3-standin', ip: '10.251.1.250', subnet: '10.251.1.0/24', regions: ['us-east-1'], buckets,
  hostnames: s3Hostnames(['us-east-1'], buckets), certificateNames: certificateNames(['us-east-1']),
  roles: { '10.251.1.10': 'st-a-role' },
};
const plan: NetworkPlan = {
  hosts: [
    { name: 'st-a-pg1', ip: '10.251.1.10', subnet: '10.251.1.0/24', side: 'a' },
    { name: 'st-other', ip: '10.251.1.20', subnet: '10.251.1.0/24', side: 'a' },
    { name: store.name, ip: store.ip, subnet: store.subnet, side: 'a', image: { name: s3Image.name, rootfs: s3Image.rootfs }, extraAddresses: [`${IMDS_IP}/32`] },
  ],
  clients: [],
  subnets: ['10.251.1.0/24'],
  imds: IMDS_IP,
};

const CONF = `[global]
repo1-type=s3
repo1-s3-bucket=st-backup-us-east-1
repo1-s3-endpoint=s3.us-east-1.amazonaws.com
repo1-s3-region=us-east-1
repo1-s3-key-type=auto
repo1-path=/st/a
log-level-console=warn
log-level-file=off

[a]
pg1-path=/var/lib/postgresql/15/main
pg1-socket-path=/tmp
`;

describe('object store stand-in (S3 over TLS, IMDSv2) with real pgBackRest', () => {
  const hosts = new TestHosts(plan, () => undefined, workspace, { name: fleetImage.name, rootfs: fleetImage.rootfs });
  jest.setTimeout(300_000);
  const sh = (host: string, script: string, timeoutMs = 120_000) => hosts.exec(host, ['sh', '-c', script], { allowFail: true, timeoutMs });
  const pg = (script: string, timeoutMs = 120_000) => sh('st-a-pg1', `runuser -u postgres -- sh -c '${script}'`, timeoutMs);
  const psql = (sql: string) => hosts.exec('st-a-pg1', ['runuser', '-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/psql', '-h', '/tmp', '-XAtq',
    '-v', 'ON_ERROR_STOP=1', '-c', sql], { allowFail: true, timeoutMs: 60_000 });

  beforeAll(async () => {
    await cleanupLeftovers(() => undefined, workspace);
    const certs = await makeObjectStoreCertificates(store);
    hosts.prepareRoot = (_name, upper, rootfs) => prepareRootForObjectStore(store, certs.ca, upper, rootfs);
    await hosts.create();
    await startObjectStore(hosts, store, certs, () => undefined);
    await hosts.boot('st-a-pg1');
    await hosts.boot('st-other');
  });

  afterAll(async () => {
    await hosts.destroy();
  });

  it('serves the regional endpoint and the bucket\'s virtual host over TLS the hosts verify, and nothing else', async () => {
    const ok = await sh('st-a-pg1', 'curl -sS -o /dev/null -w "%{http_code}" https://st-backup-us-east-1.s3.us-east-1.amazonaws.com/');
    expect(ok.code).toBe(0);
    // A name the certificate lacks, and the bare address: verification refuses both.
    const wrongName = await sh('st-a-pg1', `curl -sS -o /dev/null --resolve s3.us-west-2.amazonaws.com:443:${store.ip} https://s3.us-west-2.amazonaws.com/`);
    expect(wrongName.code).not.toBe(0);
    expect(wrongName.stderr).toMatch(/certificate|SSL/i);
    const bare = await sh('st-a-pg1', `curl -sS -o /dev/null https://${store.ip}/`);
    expect(bare.code).not.toBe(0);
  });

  it('IMDS: a token is required, and each host gets only its own role', async () => {
    const noToken = await sh('st-a-pg1', `curl -s -o /dev/null -w "%{http_code}" http://${IMDS_IP}/latest/meta-data/iam/security-credentials/`);
    expect(noToken.stdout).toBe('401');
    const token = `TOKEN=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://${IMDS_IP}/latest/api/token)`;
    const role = await sh('st-a-pg1', `${token} && curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" http://${IMDS_IP}/latest/meta-data/iam/security-credentials/`);
    expect(role.stdout).toBe('st-a-role');
    const creds = await sh('st-a-pg1', `${token} && curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" http://${IMDS_IP}/latest/meta-data/iam/security-credentials/st-a-role`);
    expect(JSON.parse(creds.stdout)).toMatchObject({ Code: 'Success', AccessKeyId: expect.stringMatching(/^ASIA/), Token: expect.any(String) });
    // A host without a role, and a token of another host.
    const other = await sh('st-other', `${token} && curl -s -o /dev/null -w "%{http_code}" -H "X-aws-ec2-metadata-token: $TOKEN" http://${IMDS_IP}/latest/meta-data/iam/security-credentials/`);
    expect(other.stdout).toBe('404');
    const stolen = await sh('st-a-pg1', `${token} && echo "$TOKEN"`);
    const replay = await sh('st-other', `curl -s -o /dev/null -w "%{http_code}" -H "X-aws-ec2-metadata-token: ${stolen.stdout.trim()}" http://${IMDS_IP}/latest/meta-data/iam/security-credentials/st-a-role`);
    expect(replay.stdout).toBe('401');
  });

  it('pgBackRest archives, backs up and restores to a target time through it', async () => {
    await sh('st-a-pg1', `mkdir -p /etc/pgbackrest && cat > /etc/pgbackrest/pgbackrest.conf <<'EOF'\n${CONF}EOF\nchmod 0644 /etc/pgbackrest/pgbackrest.conf`);
    const init = await pg('mkdir -p /var/lib/postgresql/15 && /usr/lib/postgresql/15/bin/initdb -D /var/lib/postgresql/15/main -A peer >/dev/null && ' +
      'printf "%s\\n" "unix_socket_directories = \'"\'/tmp\'"\'" "listen_addresses = \'"\'\'"\'" "archive_mode = on" ' +
      '"archive_command = \'"\'pgbackrest --stanza=a archive-push %p\'"\'" "archive_timeout = 60" >> /var/lib/postgresql/15/main/postgresql.conf && ' +
      '/usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/main -l /tmp/pg.log -w start');
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    const stanza = await pg('pgbackrest --stanza=a stanza-create && pgbackrest --stanza=a check');
    expect(stanza.stderr + stanza.stdout).toBe('');
    expect(stanza.code).toBe(0);
    await psql('CREATE TABLE t (n int, at timestamptz DEFAULT clock_timestamp())');
    await psql('INSERT INTO t (n) SELECT generate_series(1, 100)');
    const backup = await pg('pgbackrest --stanza=a --type=full backup', 300_000);
    expect(backup.code).toBe(0);
    await psql('INSERT INTO t (n) SELECT generate_series(101, 200)');
    // The hosts share the test machine's clock. pgBackRest picks a backup whose stop time (whole seconds) is before it.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const target = targetTimeText(Date.now() / 1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await psql('INSERT INTO t (n) SELECT generate_series(201, 300)');
    await psql('SELECT pg_switch_wal()');
    // Archived through the stand-in: the check command waits for the switched segment in the repository.
    expect((await pg('pgbackrest --stanza=a check')).code).toBe(0);
    const info = JSON.parse((await pg('pgbackrest --stanza=a info --output=json')).stdout) as { backup: { type: string }[]; archive: { max: string }[] }[];
    expect(info[0].backup.map((b) => b.type)).toEqual(['full']);
    expect(info[0].archive[0].max).toMatch(/^[0-9A-F]{24}$/);
    // What the bucket holds, seen from the stand-in (boto3 against moto, through the same TLS endpoint).
    const listed = await sh(store.name, "python3 -c \"import boto3; s3 = boto3.client('s3', region_name='us-east-1', endpoint_url='https://s3.us-east-1.amazonaws.com', " +
      "aws_access_key_id='x', aws_secret_access_key='x'); print(sum(1 for o in s3.list_objects_v2(Bucket='st-backup-us-east-1', Prefix='st/a/').get('Contents', [])))\"");
    expect(Number(listed.stdout.trim())).toBeGreaterThan(5);
    // Restore to the target into an empty data directory.
    await pg('/usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/main -m fast -w stop && rm -rf /var/lib/postgresql/15/main && mkdir -m 0700 /var/lib/postgresql/15/main');
    const restore = await pg(`pgbackrest --stanza=a --type=time "--target=${target}" --target-action=promote restore`, 300_000);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect((await pg('/usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/main -l /tmp/pg2.log -t 120 -w start')).code).toBe(0);
    let rows = '';
    for (let i = 0; i < 60 && rows === ''; i++) {
      const r = await psql("SELECT count(*) || ' ' || max(n) FROM t WHERE NOT pg_is_in_recovery()");
      if (r.code === 0 && r.stdout.trim() !== ' ' && !r.stdout.trim().startsWith('0 ')) rows = r.stdout.trim();
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(rows).toBe('200 200');
  });
});
