/**
 * The pure parts of the object store stand-in (object-store.ts) and of the backup-restore drill: what the rehearsal
 * reads from a stack, the names and certificate it serves, what a host's root disk gets, and the drill's row and WAL
 * arithmetic. The stand-ins themselves run in object-store.system.test.ts (real moto, nginx, pgBackRest, PostgreSQL).
 */
import { mkdtempSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { RESTORE_DRILLS, runOrder } from '../src/drills';
import { crashFraction, parseLsn, rowsAtTarget, segmentEndLsn, targetTimeText, unarchived } from '../src/drills/backup-restore';
import {
  bucketsOf, certificateNames, etcHostsBlock, freeAddress, instanceRoles, objectStoreNginxConf, ObjectStorePlan, parseIni, pgbackrestConfOf,
  prepareRootForObjectStore, providerRegion, s3Hostnames, STANDIN_CA_PATH,
} from '../src/object-store';

const providers = [{ region: 'us-east-1' }, { alias: 'us-east-1', region: 'us-east-1' }, { alias: 'eu-west-1', region: 'eu-west-1' }];
const conf = (bucket: string, region: string) => parseIni(`[global]\nrepo1-type=s3\nrepo1-s3-bucket=${bucket}\nrepo1-s3-region=${region}\n\n[a]\npg1-path=/x\n`);

describe('object store stand-in: what it reads from the stack', () => {
  it('parses pgBackRest INI (sections, comments, later keys win)', () => {
    expect(parseIni('# c\n[global]\nrepo1-type=s3\nrepo1-path = /f/a\nrepo1-type=gcs\n\n[a]\npg1-path=/d\n; c\n')).toEqual({
      global: { 'repo1-type': 'gcs', 'repo1-path': '/f/a' }, a: { 'pg1-path': '/d' },
    });
  });

  it('finds a machine\'s rendered configuration among its files', () => {
    const m = { config: { writeFiles: [{ path: '/etc/other', content: '' }, { path: '/etc/pgbackrest/pgbackrest.conf', content: '[a]\npg1-path=/d\n' }] } };
    expect(pgbackrestConfOf(m)).toEqual({ a: { 'pg1-path': '/d' } });
    expect(pgbackrestConfOf({ config: { writeFiles: [] } })).toBeUndefined();
  });

  it('reads a resource\'s region from its aliased provider (or the default one)', () => {
    expect(providerRegion('aws.eu-west-1', providers)).toBe('eu-west-1');
    expect(providerRegion(undefined, providers)).toBe('us-east-1');
    expect(providerRegion('aws.ap-south-1', providers)).toBeUndefined();
  });

  it('takes Terraform\'s buckets first (with their versioning), then the configurations\', then the naming', () => {
    const resources = {
      aws_s3_bucket: {
        b1: { bucket: 'f-backup-eu-west-1', provider: 'aws.eu-west-1' },
        b2: { bucket: '${var.name}', provider: 'aws.eu-west-1' },
      },
      aws_s3_bucket_versioning: { v1: { bucket: '${aws_s3_bucket.b1.id}', versioning_configuration: { status: 'Enabled' } } },
    };
    expect(bucketsOf(resources, providers, [conf('f-backup-us-east-1', 'us-east-1'), conf('f-backup-eu-west-1', 'eu-west-1')], 'f')).toEqual([
      { name: 'f-backup-eu-west-1', region: 'eu-west-1', versioning: true, from: 'aws_s3_bucket' },
      { name: 'f-backup-us-east-1', region: 'us-east-1', versioning: false, from: 'pgbackrest.conf' },
    ]);
    // A GCS configuration names no S3 bucket; with nothing else, the topology's naming per AWS region.
    expect(bucketsOf({}, providers, [parseIni('[global]\nrepo1-type=gcs\nrepo1-gcs-bucket=g\n')], 'f').map((b) => `${b.name} ${b.from}`))
      .toEqual(['f-backup-eu-west-1 naming', 'f-backup-us-east-1 naming']);
  });

  it('maps each machine to its instance profile\'s role', () => {
    const resources = {
      aws_instance: {
        a1: { iam_instance_profile: '${aws_iam_instance_profile.p.name}' },
        a2: { iam_instance_profile: 'literal-profile' },
        a3: {},
      },
      aws_iam_instance_profile: { p: { name: 'f-db-us-east-1', role: '${aws_iam_role.r.name}' } },
      aws_iam_role: { r: { name: 'f-db-us-east-1-role' } },
    };
    expect(instanceRoles(resources, [
      { address: 'aws_instance.a1', privateIp: '10.0.0.1' }, { address: 'aws_instance.a2', privateIp: '10.0.0.2' },
      { address: 'aws_instance.a3', privateIp: '10.0.0.3' }, { address: 'google_compute_instance.g', privateIp: '10.0.0.4' },
    ])).toEqual({ '10.0.0.1': 'f-db-us-east-1-role', '10.0.0.2': 'literal-profile' });
  });

  it('picks a free address from the top of a subnet, or says there is none', () => {
    expect(freeAddress('10.0.0.0/24', new Set(['10.0.0.254', '10.0.0.253']))).toBe('10.0.0.252');
    expect(() => freeAddress('10.0.0.0/30', new Set(['10.0.0.1', '10.0.0.2']))).toThrow(/no free address in 10\.0\.0\.0\/30/);
  });
});

describe('object store stand-in: names, certificate, root disks', () => {
  const buckets = [{ name: 'f-backup-us-east-1', region: 'us-east-1', versioning: false, from: 'naming' as const }];
  const plan: ObjectStorePlan = {
    name: 'f-s3-standin', ip: '10.0.1.250', subnet: '10.0.0.0/23', regions: ['us-east-1', 'us-east-2'], buckets,
    hostnames: s3Hostnames(['us-east-1', 'us-east-2'], buckets), certificateNames: certificateNames(['us-east-1', 'us-east-2']), roles: {},
  };

  it('resolves each regional endpoint and each bucket\'s virtual host (no wildcards in /etc/hosts); the certificate covers both', () => {
    expect(plan.hostnames).toEqual(['f-backup-us-east-1.s3.us-east-1.amazonaws.com', 's3.us-east-1.amazonaws.com', 's3.us-east-2.amazonaws.com']);
    expect(plan.certificateNames).toEqual(['s3.us-east-1.amazonaws.com', '*.s3.us-east-1.amazonaws.com', 's3.us-east-2.amazonaws.com', '*.s3.us-east-2.amazonaws.com']);
    expect(etcHostsBlock('10.0.1.250', ['a', 'b'])).toBe('# rehearsal: the object store stand-in (tools/rehearsal/src/object-store.ts)\n10.0.1.250 a\n10.0.1.250 b\n');
  });

  it('fronts moto with TLS and HTTP/1.1 on the planned address, passing the Host on', () => {
    const nginx = objectStoreNginxConf(plan);
    expect(nginx).toContain('listen 10.0.1.250:443 ssl;');
    expect(nginx).toContain('proxy_set_header Host $http_host;');
    expect(nginx).toContain('client_max_body_size 0;');
  });

  it('gives a root disk the names and the CA in the system store, once, keeping what the machine changed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dpgr-root-'));
    try {
      const rootfs = path.join(dir, 'rootfs');
      const upper = path.join(dir, 'upper');
      mkdirSync(path.join(rootfs, 'etc/ssl/certs'), { recursive: true });
      writeFileSync(path.join(rootfs, 'etc/hosts'), '127.0.0.1 localhost\n');
      writeFileSync(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), 'PUBLIC CAS\n');
      const ca = { cert: '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n', key: 'k', subjectHash: 'abcd1234' };
      prepareRootForObjectStore(plan, ca, upper, rootfs);
      prepareRootForObjectStore(plan, ca, upper, rootfs);
      const hosts = readFileSync(path.join(upper, 'etc/hosts'), 'utf8');
      expect(hosts.startsWith('127.0.0.1 localhost\n# rehearsal')).toBe(true);
      expect(hosts.match(/10\.0\.1\.250 s3\.us-east-2\.amazonaws\.com/g)).toHaveLength(1);
      expect(readFileSync(path.join(upper, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toBe(`PUBLIC CAS\n${ca.cert}`);
      expect(readFileSync(path.join(upper, STANDIN_CA_PATH.slice(1)), 'utf8')).toBe(ca.cert);
      expect(readlinkSync(path.join(upper, 'etc/ssl/certs/abcd1234.0'))).toBe(STANDIN_CA_PATH);
      // A reboot: the machine added a line of its own; it stays, the stand-in's entries are not doubled.
      writeFileSync(path.join(upper, 'etc/hosts'), `${hosts}10.9.9.9 mine\n`);
      prepareRootForObjectStore(plan, ca, upper, rootfs);
      expect(readFileSync(path.join(upper, 'etc/hosts'), 'utf8')).toBe(`${hosts}10.9.9.9 mine\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('backup-restore drill arithmetic', () => {
  it('writes the target as a UTC timestamp PostgreSQL reads unambiguously', () => {
    expect(targetTimeText(Date.UTC(2026, 10, 27, 20, 12, 46, 233) / 1000)).toBe('2026-11-27 20:12:46.233+00');
  });

  it('knows where a WAL segment ends', () => {
    const mb16 = 16 * 1024 * 1024;
    expect(segmentEndLsn('000000010000000000000008', mb16)).toBe(parseLsn('0/9000000'));
    expect(segmentEndLsn('0000000200000001000000FF', mb16)).toBe(parseLsn('2/0'));
    expect(segmentEndLsn('000000010000000000000003.partial', 64 * 1024 * 1024)).toBe(parseLsn('0/10000000'));
    expect(() => segmentEndLsn('history', mb16)).toThrow(/not a WAL segment/);
    expect(parseLsn('1/A')).toBe(0x10000000an);
  });

  it('splits a sequential writer\'s rows at the target: acknowledged before, sent after, in doubt', () => {
    // seq 1..3 acknowledged at 1, 2, 3; 4 failed at 4.5; 5 in doubt (no time known); 6 acknowledged at 7; 7 at 8.
    const events = { acked: [1, 2, 3, 6, 7], ackTimes: [1, 2, 3, 7, 8], errors: [{ seq: 4, t: 4.5 }], doubts: [5] };
    expect(rowsAtTarget(events, 2.5, 1)).toEqual({ before: [1, 2], after: [4, 5, 6, 7], inDoubt: [3] });
    // Row 6 follows a row in doubt (sent at an unknown moment after 4.5); row 7 follows row 6's answer at 7.
    expect(rowsAtTarget(events, 5, 1)).toEqual({ before: [1, 2, 3], after: [7], inDoubt: [4, 5, 6] });
    expect(rowsAtTarget(events, 100, 1)).toEqual({ before: [1, 2, 3, 6, 7], after: [], inDoubt: [4, 5] });
  });

  it('counts the acknowledged writes after the archive\'s end, up to the crash', () => {
    const samples = [{ t: 10, lsn: 100n }, { t: 11, lsn: 150n }, { t: 12, lsn: 210n }, { t: 13, lsn: 260n }];
    expect(unarchived(samples, 200n, [9, 10.5, 11.5, 12.5, 13.5, 20], 14)).toEqual({ sinceT: 11, seconds: 3, rows: 3 });
    expect(unarchived(samples, 1000n, [12.5], 14)).toEqual({ sinceT: 13, seconds: 1, rows: 0 });
  });

  it('crashes at a seeded moment between 30 % and 90 % of archive_timeout', () => {
    const fractions = [1, 2, 3, 101, 202, 999999].map(crashFraction);
    expect(fractions.every((f) => f >= 0.3 && f < 0.9)).toBe(true);
    expect(crashFraction(101)).toBe(crashFraction(101));
    expect(new Set(fractions).size).toBeGreaterThan(3);
  });

  it('is an opt-in restore drill, run in the named order', () => {
    expect(RESTORE_DRILLS).toEqual(['backup-restore']);
    expect(runOrder(['backup-restore', 'remove-group', 'baseline'])).toEqual(['backup-restore', 'baseline', 'remove-group']);
  });
});
